"""Reads added for complete coverage: ledger entry, revenue event, link, rate, imports, reach."""

from __future__ import annotations

import pytest

from tests.web.data import program_create


@pytest.fixture
def program(tenant):
    return program_create(tenant, label="Acme")


@pytest.fixture
def other_program(other_tenant):
    return program_create(other_tenant, label="Globex")


def detail_urls(program) -> dict[str, str]:
    return {
        "ledger": f"/api/v1/ledger/{program.entry.pk}/",
        "revenue_event": f"/api/v1/revenue-events/{program.revenue_event.pk}/",
        "link": f"/api/v1/links/{program.link.pk}/",
        "exchange_rate": f"/api/v1/exchange-rates/{program.exchange_rate.pk}/",
        "import": f"/api/v1/imports/{program.run.pk}/",
        "imports": "/api/v1/imports/",
        "reach": f"/api/v1/partners/{program.partner.pk}/reach/",
    }


def test_reads_need_a_key(client, program):
    for name, url in detail_urls(program).items():
        response = client.get(url)
        assert response.status_code == 401, name
        assert response.json()["code"] == "not_authenticated", name


def test_reads_of_other_tenant_are_404(client, headers, program, other_program):
    for name, url in detail_urls(other_program).items():
        if name == "imports":
            continue
        response = client.get(url, headers=headers)
        assert response.status_code == 404, name
        assert "Globex" not in response.content.decode(), name


def test_ledger_entry_detail(client, headers, program):
    response = client.get(f"/api/v1/ledger/{program.entry.pk}/", headers=headers)

    assert response.status_code == 200
    assert response.json()["id"] == program.entry.pk
    assert response.json()["partner"]["name"] == "Acme Referrals"


def test_revenue_event_detail(client, headers, program):
    response = client.get(f"/api/v1/revenue-events/{program.revenue_event.pk}/", headers=headers)

    assert response.status_code == 200
    assert response.json()["external_id"] == "acme-churn"
    assert response.json()["kind"] == "churn"


def test_revenue_event_unknown_id_is_404(client, headers, program):
    response = client.get("/api/v1/revenue-events/999999/", headers=headers)

    assert response.status_code == 404
    assert response.json()["field"] == "id"
    assert response.json()["value"] == 999999


def test_link_detail(client, headers, program):
    response = client.get(f"/api/v1/links/{program.link.pk}/", headers=headers)

    assert response.status_code == 200
    assert response.json()["code"] == "acmelink01"


def test_exchange_rate_detail(client, headers, program):
    response = client.get(f"/api/v1/exchange-rates/{program.exchange_rate.pk}/", headers=headers)

    assert response.status_code == 200
    assert response.json()["currency"] == "EUR"
    assert response.json()["rate"] == "1.12000000"


def test_import_runs_list_and_detail(client, headers, program):
    listed = client.get("/api/v1/imports/?kind=accounts", headers=headers)
    detail = client.get(f"/api/v1/imports/{program.run.pk}/", headers=headers)

    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [program.run.pk]
    assert detail.json()["errors"][0]["column"] == "employees"


def test_import_runs_filter_by_status(client, headers, program):
    response = client.get("/api/v1/imports/?status=failed", headers=headers)

    assert response.json()["results"] == []


def test_import_runs_invalid_kind_rejected(client, headers, program):
    response = client.get("/api/v1/imports/?kind=partners", headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "kind"


def test_reach_list_with_fit(client, headers, program):
    response = client.get(f"/api/v1/partners/{program.partner.pk}/reach/", headers=headers)

    assert response.status_code == 200
    rows = {row["domain"]: row for row in response.json()["results"]}
    assert rows[program.account.domain]["account_id"] == program.account.pk
    assert rows[program.account.domain]["fit_tier"] == "A"
    assert rows["acme-unmatched.com"]["account_id"] is None


def test_reach_list_matched_filter(client, headers, program):
    url = f"/api/v1/partners/{program.partner.pk}/reach/?matched=false"

    response = client.get(url, headers=headers)

    assert [row["domain"] for row in response.json()["results"]] == ["acme-unmatched.com"]
