"""The public partner application: validation, idempotency and what it changes."""

from __future__ import annotations

import pytest

from partners import applications
from partners.models import Partner, PartnerApplication, ReachEntry
from tenancy.errors import DomainError, FieldErrors
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tenancy.services import api_key_create
from tests.factories import PartnerFactory

VALID = {
    "company_name": "Northwind Consulting",
    "website": "https://www.Northwind-Consulting.co.uk/about",
    "contact_name": "Jane Doe",
    "contact_email": "jane@northwind-consulting.co.uk",
    "kind": "agency",
    "message": "We implement CRMs for mid-market retailers.",
    "reach": "acme.com\nhttps://www.globex.com/\nbob@initech.io\njoe@gmail.com\nnot a domain\n",
}


@pytest.fixture
def open_tenant(scoped):
    scoped.applications_open = True
    scoped.save()
    return scoped


def apply(tenant, **changes):
    return applications.partner_apply(tenant=tenant, **{**VALID, **changes})


def test_application_creates_applied_partner(open_tenant):
    result = apply(open_tenant)

    partner = Partner.objects.get()
    assert result.created
    assert partner.status == Partner.Status.APPLIED
    assert partner.domain == "northwind-consulting.co.uk"
    assert partner.external_id == "apply-northwind-consulting.co.uk"
    assert partner.kind == "agency"


def test_application_stores_reach_with_counts(open_tenant):
    result = apply(open_tenant)

    domains = set(ReachEntry.objects.values_list("domain", flat=True))
    assert domains == {"acme.com", "globex.com", "initech.io"}
    assert result.reach.rejected_personal == 1
    assert result.reach.rejected_invalid == 1
    application = PartnerApplication.objects.get()
    assert application.reach_submitted == 5
    assert application.reach_accepted == 3
    assert application.reach_rejected == 2


def test_repeat_application_changes_nothing(open_tenant):
    apply(open_tenant)
    second = apply(open_tenant, reach="umbrella.com", company_name="Northwind Ltd")

    assert not second.created
    assert second.reach is None
    assert Partner.objects.count() == 1
    assert PartnerApplication.objects.count() == 2
    assert Partner.objects.get().name == "Northwind Consulting"
    domains = set(ReachEntry.objects.values_list("domain", flat=True))
    assert domains == {"acme.com", "globex.com", "initech.io"}


@pytest.mark.parametrize("status", [Partner.Status.PROSPECT, Partner.Status.ACTIVE])
def test_existing_partner_left_unchanged(open_tenant, status):
    existing = PartnerFactory(
        domain="northwind-consulting.co.uk", status=status, name="Northwind", kind="reseller"
    )
    ReachEntry.objects.create(partner=existing, domain="kept.com")

    result = apply(open_tenant)

    existing.refresh_from_db()
    assert result.partner.pk == existing.pk
    assert not result.created
    assert existing.status == status
    assert existing.name == "Northwind"
    assert existing.kind == "reseller"
    assert list(ReachEntry.objects.values_list("domain", flat=True)) == ["kept.com"]
    assert PartnerApplication.objects.get().partner_id == existing.pk


def test_closed_program_rejects(scoped):
    with pytest.raises(DomainError) as raised:
        apply(scoped)

    assert raised.value.field == "tenant"
    assert not Partner.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("company_name", "   "),
        ("company_name", "x" * 201),
        ("website", "not a website"),
        ("website", "https://gmail.com"),
        ("contact_name", ""),
        ("contact_email", "jane-at-example"),
        ("kind", "franchise"),
        ("message", "x" * 2001),
        ("reach", "a.com\n" * 10_001),
    ],
)
def test_invalid_field_rejected(open_tenant, field, value):
    with pytest.raises(DomainError) as raised:
        apply(open_tenant, **{field: value})

    assert raised.value.field == field
    assert raised.value.fix
    assert not Partner.objects.exists()
    assert not PartnerApplication.objects.exists()


def test_application_audited_with_form_label(open_tenant):
    apply(open_tenant)

    event = AuditEvent.objects.get(event="partner.applied")
    assert event.actor_id is None
    assert event.actor_label == applications.ACTOR_LABEL


def test_client_address_hashed(open_tenant):
    apply(open_tenant, client_address="203.0.113.9")

    stored = PartnerApplication.objects.get().client_hash
    assert stored == applications.client_hash("203.0.113.9")
    assert "203.0.113.9" not in stored


def test_applications_open_set_audited(scoped, admin_user):
    applications.applications_open_set(tenant=scoped, is_open=True, actor=admin_user)
    applications.applications_open_set(tenant=scoped, is_open=True, actor=admin_user)

    scoped.refresh_from_db()
    assert scoped.applications_open
    assert AuditEvent.objects.filter(event="tenant.applications_open_set").count() == 1


def test_api_lists_own_applications(open_tenant, other_tenant, client):
    apply(open_tenant)
    other_tenant.applications_open = True
    other_tenant.save()
    with tenant_scope(other_tenant):
        apply(other_tenant, company_name="Other Applicant", website="other-applicant.com")
    _, raw_key = api_key_create(tenant=open_tenant, name="applications")

    response = client.get(
        "/api/v1/partner-applications/", headers={"Authorization": f"Api-Key {raw_key}"}
    )

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["company_name"] for row in rows] == ["Northwind Consulting"]
    assert rows[0]["partner_status"] == "applied"
    assert rows[0]["reach_accepted"] == 3


def test_application_lists_every_invalid_field(open_tenant):
    with pytest.raises(FieldErrors) as raised:
        apply(open_tenant, company_name="", website="gmail.com", contact_email="not-an-email")

    fields = [error.field for error in raised.value.errors]
    assert fields == ["company_name", "website", "contact_email"]
    assert raised.value.field == "company_name"
    assert raised.value.as_dict()["errors"][1]["value"] == "gmail.com"
    assert not PartnerApplication.objects.exists()
