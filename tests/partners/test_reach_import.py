"""Reach CSV import: consumer mail domains, rejection reasons and firmographics."""

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.importing import csv_import
from crm.models import ImportRun
from partners.importing import reach_import_counts
from partners.models import ReachEntry
from tenancy.scope import tenant_scope
from tests.factories import PartnerFactory

# Line 3 repeats line 2, lines 4 and 5 are personal, line 6 is invalid, line 7 is
# an unknown partner.
REACH_CSV = (
    b"partner_external_id,domain,company_name\n"
    b"p1,www.acme.com,Acme\n"
    b"p1,https://acme.com/about,Acme again\n"
    b"p1,jane@gmail.com,Jane\n"
    b"p1,yahoo.co.uk,\n"
    b"p1,not a domain,\n"
    b"ghost,globex.com,Globex\n"
    b"p1,m\xc3\xbcnchen.de,Muenchen\n"
)


def _import(tenant, strict):
    return csv_import(
        tenant=tenant, kind="reach", content=REACH_CSV, filename="reach.csv", strict=strict
    )


def test_reach_import_rejects_personal_domains(scoped):
    PartnerFactory(tenant=scoped, external_id="p1")

    run = _import(scoped, strict=False)

    assert run.status == ImportRun.Status.PARTIAL
    personal = [error for error in run.errors if error.get("reason") == "personal_domain"]
    assert [(error["line"], error["value"]) for error in personal] == [
        (4, "gmail.com"),
        (5, "yahoo.co.uk"),
    ]
    assert "consumer mail provider" in personal[0]["message"]
    assert "company's own domain" in personal[0]["message"]
    assert sorted(ReachEntry.objects.values_list("domain", flat=True)) == [
        "acme.com",
        "xn--mnchen-3ya.de",
    ]


def test_reach_import_counts_by_reason(scoped):
    PartnerFactory(tenant=scoped, external_id="p1")

    counts = reach_import_counts(_import(scoped, strict=False))

    assert counts == {
        "total": 7,
        "accepted": 2,
        "duplicates": 1,
        "rejected_personal": 2,
        "rejected_invalid": 2,
    }


def test_reach_import_strict_counts_nothing_accepted(scoped):
    PartnerFactory(tenant=scoped, external_id="p1")

    counts = reach_import_counts(_import(scoped, strict=True))

    assert counts["accepted"] == 0
    assert counts["rejected_personal"] == 2
    assert ReachEntry.objects.count() == 0


def test_import_page_shows_reach_counts(staff_client, tenant):
    with tenant_scope(tenant):
        PartnerFactory(tenant=tenant, external_id="p1")
    upload = SimpleUploadedFile("reach.csv", REACH_CSV, "text/csv")

    response = staff_client.post(
        reverse("crm:import_upload"), {"kind": "reach", "file": upload}, follow=True
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Rejected, personal mail domain</dt><dd>2</dd>" in page
    assert "Duplicates in file</dt><dd>1</dd>" in page
    assert "Rejected, invalid</dt><dd>2</dd>" in page


def test_reach_import_api_reports_reasons(client, tenant):
    from tenancy.services import api_key_create

    with tenant_scope(tenant):
        PartnerFactory(tenant=tenant, external_id="p1")
    _, raw_key = api_key_create(tenant=tenant, name="tests")
    upload = SimpleUploadedFile("reach.csv", REACH_CSV, "text/csv")

    response = client.post(
        "/api/v1/imports/reach/",
        {"file": upload, "strict": "false"},
        headers={"Authorization": f"Api-Key {raw_key}"},
    )

    assert response.status_code == 201
    reasons = {error["line"]: error.get("reason") for error in response.json()["errors"]}
    assert reasons[3] == "duplicate"
    assert reasons[4] == "personal_domain"
    assert reasons[6] is None


FIRMOGRAPHICS_CSV = (
    b"partner_external_id,domain,industry,employees,revenue,country,state,tech_stack\n"
    b'p1,acme.com,Software,"1,200",2500000.50,Germany,BY,"salesforce; aws"\n'
    b"p1,globex.com,Retail,many,,FR,,\n"
    b"p1,initech.com,,,,Atlantis,,\n"
)


def test_reach_import_reads_firmographics(scoped):
    PartnerFactory(tenant=scoped, external_id="p1")

    run = csv_import(
        tenant=scoped, kind="reach", content=FIRMOGRAPHICS_CSV, filename="r.csv", strict=False
    )

    assert run.status == ImportRun.Status.PARTIAL
    assert [(error["line"], error["column"], error["value"]) for error in run.errors] == [
        (3, "employees", "many"),
        (4, "country", "Atlantis"),
    ]
    assert "whole number" in run.errors[0]["message"]
    entry = ReachEntry.objects.get()
    assert (entry.domain, entry.industry, entry.employees) == ("acme.com", "Software", 1200)
    assert entry.annual_revenue == Decimal("2500000.50")
    assert (entry.country, entry.region) == ("DE", "BY")
    assert entry.tech_stack == ["aws", "salesforce"]


def test_reach_import_keeps_columns_left_out(scoped):
    PartnerFactory(tenant=scoped, external_id="p1")
    csv_import(
        tenant=scoped,
        kind="reach",
        content=b"partner_external_id,domain,industry,employees\np1,acme.com,Software,50\n",
        filename="first.csv",
    )

    csv_import(
        tenant=scoped,
        kind="reach",
        content=b"partner_external_id,domain,employees\np1,acme.com,\n",
        filename="second.csv",
    )

    entry = ReachEntry.objects.get()
    # The industry column was left out, and the empty employees cell clears the value.
    assert (entry.industry, entry.employees) == ("Software", None)
