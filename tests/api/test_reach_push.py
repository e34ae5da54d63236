"""Reach lists pushed by API: modes, strict and lenient writes, idempotency and limits."""

from decimal import Decimal

import pytest

from partners import reach
from partners.models import PartnerScore, ReachEntry
from partners.recompute import partner_scores_request
from tenancy.models import AuditEvent
from tests.api.conftest import auth
from tests.factories import AccountFactory, PartnerFactory


def url(partner) -> str:
    return f"/api/v1/partners/{partner.pk}/reach/"


def push(client, partner, body, headers):
    return client.post(url(partner), body, content_type="application/json", headers=headers)


def domains(partner) -> list[str]:
    return sorted(ReachEntry.objects.filter(partner=partner).values_list("domain", flat=True))


@pytest.fixture
def partner(scoped):
    return PartnerFactory(tenant=scoped, external_id="p-1")


ENTRIES = [
    {"domain": "www.Acme.com", "company_name": "Acme"},
    {"email": "jane@sales.globex.co.uk"},
    {"url": "https://münchen.de/kontakt?x=1"},
    {"domain": "acme.com"},
    {"email": "bob@gmail.com"},
    {"domain": "yahoo.co.jp"},
    {"domain": "not a domain"},
    {"url": "http://localhost:8000/"},
    {"company_name": "No address"},
    {"domain": "initech.com", "email": "x@initech.com"},
    "initech.com",
]


def test_push_lenient_counts_and_errors(client, headers, partner):
    response = push(client, partner, {"entries": ENTRIES}, headers)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "partial"
    assert body["total"] == 11
    assert body["accepted"] == 3
    assert body["created"] == 3
    assert body["duplicates"] == 1
    assert body["rejected_personal"] == 2
    assert body["rejected_invalid"] == 5
    assert domains(partner) == ["acme.com", "globex.co.uk", "xn--mnchen-3ya.de"]
    errors = {error["index"]: error for error in body["errors"]}
    assert sorted(errors) == [4, 5, 6, 7, 8, 9, 10]
    assert errors[4]["field"] == "email"
    assert errors[4]["value"] == "bob@gmail.com"
    assert errors[4]["reason"] == "personal_domain"
    assert "gmail.com" in errors[4]["message"]
    assert "company's own domain" in errors[4]["fix"]
    assert errors[6]["field"] == "domain"
    assert errors[6]["reason"] == "invalid"
    assert errors[7]["field"] == "url"
    assert "exactly one" in errors[9]["fix"]
    assert errors[10]["field"] == "entries"


def test_push_keeps_first_company_name(client, headers, partner):
    push(client, partner, {"entries": ENTRIES[:4]}, headers)

    assert ReachEntry.objects.get(domain="acme.com").company_name == "Acme"


def test_push_strict_writes_nothing_on_error(client, headers, partner):
    ReachEntry.objects.create(tenant=partner.tenant, partner=partner, domain="keep.com")

    response = push(
        client, partner, {"entries": ENTRIES, "strict": True, "mode": "replace"}, headers
    )

    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    assert response.json()["created"] == 0
    assert response.json()["rejected_personal"] == 2
    assert domains(partner) == ["keep.com"]


def test_push_strict_writes_when_all_valid(client, headers, partner):
    body = {"entries": [{"domain": "acme.com"}, {"url": "https://globex.com"}], "strict": True}

    response = push(client, partner, body, headers)

    assert response.json()["status"] == "succeeded"
    assert domains(partner) == ["acme.com", "globex.com"]


def test_push_merge_keeps_existing(client, headers, partner):
    ReachEntry.objects.create(
        tenant=partner.tenant, partner=partner, domain="keep.com", company_name="Keep"
    )

    response = push(client, partner, {"entries": [{"domain": "acme.com"}]}, headers)

    assert response.json()["removed"] == 0
    assert domains(partner) == ["acme.com", "keep.com"]


def test_push_replace_removes_unsent(client, headers, partner):
    ReachEntry.objects.create(tenant=partner.tenant, partner=partner, domain="old.com")
    ReachEntry.objects.create(tenant=partner.tenant, partner=partner, domain="acme.com")
    body = {"entries": [{"domain": "acme.com"}, {"domain": "new.com"}], "mode": "replace"}

    response = push(client, partner, body, headers)

    assert response.json()["removed"] == 1
    assert response.json()["created"] == 1
    assert response.json()["unchanged"] == 1
    assert domains(partner) == ["acme.com", "new.com"]


def test_push_replace_of_only_bad_entries_keeps_list(client, headers, partner):
    ReachEntry.objects.create(tenant=partner.tenant, partner=partner, domain="keep.com")

    body = {"entries": [{"email": "a@gmail.com"}], "mode": "replace"}
    response = push(client, partner, body, headers)

    assert response.json()["status"] == "failed"
    assert domains(partner) == ["keep.com"]


def test_push_replace_with_no_entries_empties_list(client, headers, partner):
    ReachEntry.objects.create(tenant=partner.tenant, partner=partner, domain="old.com")

    response = push(client, partner, {"entries": [], "mode": "replace"}, headers)

    assert response.json()["removed"] == 1
    assert domains(partner) == []


def test_push_twice_changes_nothing(client, headers, partner, django_capture_on_commit_callbacks):
    body = {"entries": ENTRIES, "mode": "replace"}
    push(client, partner, body, headers)
    before = list(ReachEntry.objects.order_by("pk").values("pk", "company_name", "updated_at"))
    audits = AuditEvent.all_tenants.filter(event="partner.reach_pushed").count()

    with django_capture_on_commit_callbacks() as callbacks:
        second = push(client, partner, body, headers).json()

    assert (second["created"], second["updated"], second["removed"]) == (0, 0, 0)
    assert second["unchanged"] == 3
    after = list(ReachEntry.objects.order_by("pk").values("pk", "company_name", "updated_at"))
    assert after == before
    assert AuditEvent.all_tenants.filter(event="partner.reach_pushed").count() == audits
    assert not [c for c in callbacks if getattr(c, "func", None) is partner_scores_request]


def test_push_renames_company(client, headers, partner):
    push(client, partner, {"entries": [{"domain": "acme.com", "company_name": "Acme"}]}, headers)

    body = push(
        client, partner, {"entries": [{"domain": "acme.com", "company_name": "Acme Inc"}]}, headers
    ).json()

    assert body["updated"] == 1
    assert ReachEntry.objects.get().company_name == "Acme Inc"


def test_push_enqueues_score_refresh_that_matches(
    client, headers, partner, django_capture_on_commit_callbacks
):
    account = AccountFactory(tenant=partner.tenant, domain="acme.com")

    with django_capture_on_commit_callbacks() as callbacks:
        push(client, partner, {"entries": [{"email": "jane@acme.com"}]}, headers)
    requests = [c for c in callbacks if getattr(c, "func", None) is partner_scores_request]
    assert [request.args for request in requests] == [(partner.tenant_id, [partner.pk])]
    # Runs the debounced request, which runs the refresh task eagerly in tests.
    requests[0]()

    assert ReachEntry.objects.get().account_id == account.pk
    assert PartnerScore.objects.get(partner=partner).reach_count == 1


def test_push_over_cap_rejected(client, headers, partner, monkeypatch):
    monkeypatch.setattr(reach, "MAX_PUSH_ENTRIES", 3)
    entries = [{"domain": f"c{i}.com"} for i in range(4)]

    response = push(client, partner, {"entries": entries}, headers)

    assert response.status_code == 400
    assert response.json()["field"] == "entries"
    assert response.json()["value"] == 4
    assert "at most 3" in response.json()["fix"]
    assert domains(partner) == []


def test_push_cap_is_ten_thousand():
    assert reach.MAX_PUSH_ENTRIES == 10_000


def test_push_rejects_unknown_mode(client, headers, partner):
    response = push(client, partner, {"entries": [], "mode": "append"}, headers)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "mode"


def test_push_analyst_forbidden(analyst_client, partner):
    response = analyst_client.post(
        url(partner), {"entries": [{"domain": "acme.com"}]}, content_type="application/json"
    )

    assert response.status_code == 403
    assert domains(partner) == []


def test_push_other_tenants_partner_404(client, other_tenant, partner):
    from tenancy.services import api_key_create

    _, raw_key = api_key_create(tenant=other_tenant, name="other")

    response = push(client, partner, {"entries": [{"domain": "acme.com"}]}, auth(raw_key))

    assert response.status_code == 404
    assert domains(partner) == []


FIRMOGRAPHICS = {
    "domain": "acme.com",
    "industry": " Software ",
    "employees": "1,200",
    "annual_revenue": "1250000.50",
    "country": "Germany",
    "region": "BY",
    "tech_stack": ["Salesforce", "AWS", "Salesforce"],
}


def test_push_stores_firmographics(client, headers, partner):
    response = push(client, partner, {"entries": [FIRMOGRAPHICS]}, headers)

    assert response.json()["status"] == "succeeded"
    entry = ReachEntry.objects.get()
    assert entry.industry == "Software"
    assert entry.employees == 1200
    assert entry.annual_revenue == Decimal("1250000.50")
    assert entry.country == "DE"
    assert entry.region == "BY"
    assert entry.tech_stack == ["AWS", "Salesforce"]


def test_push_accepts_numbers_and_text_stack(client, headers, partner):
    entry = {"domain": "acme.com", "employees": 250, "annual_revenue": 1000,
             "tech_stack": "hubspot; aws"}  # fmt: skip

    push(client, partner, {"entries": [entry]}, headers)

    stored = ReachEntry.objects.get()
    assert (stored.employees, stored.annual_revenue) == (250, Decimal("1000"))
    assert stored.tech_stack == ["aws", "hubspot"]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        pytest.param("employees", "many", "a whole number", id="employees-text"),
        pytest.param("employees", -5, "a whole number between 0 and 10000000", id="negative"),
        pytest.param("employees", True, "a number, not true or false", id="employees-boolean"),
        pytest.param("annual_revenue", "12.345", "at most 2 decimals", id="revenue-decimals"),
        pytest.param("annual_revenue", 1e20, "below 10^12", id="revenue-huge"),
        pytest.param("country", "Atlantis", "ISO 3166 code", id="country-unknown"),
        pytest.param("industry", "x" * 101, "at most 100 characters", id="industry-long"),
        pytest.param("tech_stack", ["aws", 7], "a list of texts", id="stack-not-text"),
        pytest.param("region", ["BY"], "text", id="region-list"),
    ],
)
def test_push_rejects_bad_firmographic(client, headers, partner, field, value, expected):
    body = {"entries": [{"domain": "acme.com", field: value}], "strict": True}

    response = push(client, partner, body, headers)

    result = response.json()
    assert result["status"] == "failed"
    assert result["rejected_invalid"] == 1
    error = result["errors"][0]
    assert (error["index"], error["field"], error["value"]) == (0, field, value)
    assert expected in error["message"]
    assert error["fix"]
    assert domains(partner) == []


def test_push_omitted_firmographics_kept_null_clears(client, headers, partner):
    push(client, partner, {"entries": [FIRMOGRAPHICS]}, headers)

    body = {"entries": [{"domain": "acme.com", "industry": None, "tech_stack": []}]}
    result = push(client, partner, body, headers).json()

    assert (result["updated"], result["unchanged"]) == (1, 0)
    entry = ReachEntry.objects.get()
    assert (entry.industry, entry.tech_stack) == ("", [])
    assert (entry.employees, entry.country) == (1200, "DE")


def test_push_same_firmographics_unchanged(client, headers, partner):
    push(client, partner, {"entries": [FIRMOGRAPHICS]}, headers)

    result = push(client, partner, {"entries": [FIRMOGRAPHICS]}, headers).json()

    assert (result["updated"], result["unchanged"]) == (0, 1)


def test_push_duplicate_fills_missing_fields(client, headers, partner):
    entries = [
        {"domain": "acme.com", "employees": 10},
        {"domain": "www.acme.com", "employees": 99, "country": "FR"},
    ]

    result = push(client, partner, {"entries": entries}, headers).json()

    assert result["duplicates"] == 1
    entry = ReachEntry.objects.get()
    assert (entry.employees, entry.country) == (10, "FR")
