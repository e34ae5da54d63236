import datetime
from decimal import Decimal

import pytest

from crm.models import Account
from tests.factories import AccountFactory

URL = "/api/v1/accounts/bulk/"

FULL_ROW = {
    "external_id": "acc-acme",
    "name": "Acme",
    "domain": "https://www.Acme.com/about",
    "industry": "software",
    "employees": 250,
    "annual_revenue": "1200000.00",
    "country": "Germany",
    "region": "BE",
    "year_established": 1999,
    "parent_name": "Acme Holdings",
    "tech_stack": ["Salesforce", " HubSpot ", "Salesforce"],
    "budget": "50000.00",
    "triggers": {"Funding Round": "2026-09-14"},
    "churned_on": None,
}


def post(client, headers, rows, mode="atomic"):
    return client.post(
        URL, {"mode": mode, "rows": rows}, content_type="application/json", headers=headers
    )


def test_creates_account_with_every_field(client, headers, scoped):
    response = post(client, headers, [FULL_ROW])

    assert response.status_code == 200
    account = Account.objects.get()
    assert response.json()["results"] == [
        {"index": 0, "status": "created", "id": account.pk, "external_id": "acc-acme",
         "errors": []}
    ]  # fmt: skip
    assert account.domain == "acme.com"
    assert account.country == "DE"
    assert account.employees == 250
    assert account.annual_revenue == Decimal("1200000.00")
    assert account.tech_stack == ["HubSpot", "Salesforce"]
    assert account.triggers == {"funding_round": "2026-09-14"}
    assert account.budget == Decimal("50000.00")
    assert account.year_established == 1999
    assert account.source == "api:bulk"


def test_second_send_is_unchanged(client, headers, scoped):
    post(client, headers, [FULL_ROW])

    body = post(client, headers, [FULL_ROW, {**FULL_ROW, "external_id": "acc-2", "domain": ""}])

    assert [result["status"] for result in body.json()["results"]] == ["unchanged", "created"]


def test_update_replaces_fields(client, headers, scoped):
    post(client, headers, [FULL_ROW])

    body = post(client, headers, [{"external_id": "acc-acme", "name": "Acme Inc"}]).json()

    assert body["results"][0]["status"] == "updated"
    account = Account.objects.get()
    assert account.name == "Acme Inc"
    assert account.domain == ""
    assert account.employees is None
    assert account.source == "api:bulk"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"domain": "not a domain"}, "domain"),
        ({"employees": -1}, "employees"),
        ({"country": "Atlantis"}, "country"),
        ({"annual_revenue": "1.005"}, "annual_revenue"),
        ({"triggers": {"funding": "someday"}}, "triggers"),
        ({"year_established": 1200}, "year_established"),
    ],
    ids=["name", "domain", "employees", "country", "revenue", "trigger-date", "year"],
)
def test_invalid_field_is_row_error(client, headers, scoped, fields, field):
    response = post(client, headers, [{**FULL_ROW, **fields}])

    assert response.status_code == 400
    errors = response.json()["results"][0]["errors"]
    assert [error["field"] for error in errors] == [field]
    assert errors[0]["fix"]
    assert Account.objects.count() == 0


def test_domain_of_another_account(client, headers, scoped):
    AccountFactory(tenant=scoped, external_id="acc-old", domain="acme.com")

    body = post(client, headers, [FULL_ROW], mode="partial").json()

    error = body["results"][0]["errors"][0]
    assert error["field"] == "domain"
    assert error["value"] == "acme.com"
    assert "acc-old" in error["message"]
    assert error["fix"].startswith("Fix the domain")


def test_duplicate_domain_in_request(client, headers, scoped):
    rows = [FULL_ROW, {**FULL_ROW, "external_id": "acc-2", "domain": "acme.com"}]

    body = post(client, headers, rows, mode="partial").json()

    assert [result["status"] for result in body["results"]] == ["created", "error"]
    assert body["results"][1]["errors"][0]["field"] == "domain"
    assert Account.objects.count() == 1


def test_other_tenant_keeps_its_account(client, headers, scoped, other_tenant):
    other = AccountFactory(tenant=other_tenant, external_id="acc-acme", name="Globex copy",
                           domain="acme.com")  # fmt: skip

    body = post(client, headers, [FULL_ROW]).json()

    assert body["results"][0]["status"] == "created"
    other.refresh_from_db()
    assert other.name == "Globex copy"
    assert Account.all_tenants.filter(tenant=scoped).count() == 1


def test_churned_on_is_stored(client, headers, scoped):
    post(client, headers, [{**FULL_ROW, "churned_on": "2025-01-31"}])

    assert Account.objects.get().churned_on == datetime.date(2025, 1, 31)
