"""The exchange rate API, its CSV import kind and the exchange rates page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from commissions.fx_models import ExchangeRate
from crm.models import ImportRun
from tenancy.models import AuditEvent, Membership
from tenancy.scope import tenant_scope
from tests.factories import MembershipFactory, UserFactory

URL = "/api/v1/exchange-rates/"
PAGE = "/ledger/exchange-rates/"
EUR = {"currency": "EUR", "rate_date": "2026-03-01", "rate": "1.0834", "source": "ECB"}


def post(client, body, headers=None, capture=None):
    if capture is None:
        return client.post(URL, body, content_type="application/json", headers=headers or {})
    with capture(execute=True):
        return client.post(URL, body, content_type="application/json", headers=headers or {})


@pytest.fixture
def manager_client(tenant):
    user = UserFactory(username="manager-acme")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER_MANAGER)
    client = Client()
    client.force_login(user)
    return client


def stored_rates(tenant) -> dict:
    with tenant_scope(tenant):
        return {(r.currency, r.rate_date.isoformat()): r.rate for r in ExchangeRate.objects.all()}


def test_post_one_then_again(client, headers, tenant, django_capture_on_commit_callbacks):
    created = post(client, EUR, headers, django_capture_on_commit_callbacks)

    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 0, 0)
    [rate] = body["rates"]
    assert rate["currency"] == "EUR"
    assert rate["rate"] == "1.08340000"
    assert rate["source"] == "ECB"

    again = post(client, EUR, headers, django_capture_on_commit_callbacks)

    assert again.status_code == 200
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 1)
    assert again.json()["rates"][0]["id"] == rate["id"]


def test_post_list_updates_changed_rate(client, headers, tenant):
    post(client, EUR, headers)
    rows = [
        {**EUR, "rate": 1.09},
        {"currency": "GBP", "rate_date": "2026-03-01", "rate": "1.27"},
    ]

    response = post(client, rows, headers)

    assert response.status_code == 201
    assert (response.json()["created"], response.json()["updated"]) == (1, 1)
    assert stored_rates(tenant) == {
        ("EUR", "2026-03-01"): Decimal("1.09"),
        ("GBP", "2026-03-01"): Decimal("1.27"),
    }
    with tenant_scope(tenant):
        assert ExchangeRate.objects.get(currency="GBP").source == "api"
        assert AuditEvent.objects.filter(event="exchange_rate.updated").count() == 1


def test_post_bad_rows_write_nothing(client, headers, tenant):
    rows = [EUR, {**EUR, "currency": "USD"}, {**EUR, "currency": "CHF", "rate": "0"}]

    response = post(client, rows, headers)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["field"] == "[1].currency"
    assert body["value"] == "USD"
    assert [e["field"] for e in body["errors"]] == ["[1].currency", "[2].rate"]
    assert body["errors"][1]["value"] == "0"
    assert "positive" in body["errors"][1]["fix"]
    assert body["fix"]
    assert stored_rates(tenant) == {}


def test_post_too_many_rows_rejected(client, headers, tenant):
    row = {"currency": "EUR", "rate": "1.1"}
    rows = [{**row, "rate_date": "2026-01-01"} for _ in range(5001)]

    response = post(client, rows, headers)

    assert response.status_code == 400
    assert response.json()["field"] == "rows"
    assert response.json()["value"] == 5001
    assert stored_rates(tenant) == {}


def test_list_filters_and_pages(client, headers, tenant):
    rows = [
        {"currency": currency, "rate_date": f"2026-03-{day:02d}", "rate": "1.5"}
        for currency in ("EUR", "GBP")
        for day in range(1, 6)
    ]
    post(client, rows, headers)

    everything = client.get(URL, headers=headers).json()
    euros = client.get(f"{URL}?currency=eur&from=2026-03-02&to=2026-03-04", headers=headers)
    page = client.get(f"{URL}?limit=3&offset=3", headers=headers).json()

    assert everything["count"] == 10
    assert everything["results"][0]["rate_date"] == "2026-03-05"
    assert euros.status_code == 200
    assert [r["rate_date"] for r in euros.json()["results"]] == [
        "2026-03-04",
        "2026-03-03",
        "2026-03-02",
    ]
    assert {r["currency"] for r in euros.json()["results"]} == {"EUR"}
    assert len(page["results"]) == 3


def test_list_bad_filter_rejected(client, headers):
    response = client.get(f"{URL}?from=March", headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "from"
    assert response.json()["errors"][0]["value"] == "March"


def test_list_shows_own_tenant_only(client, headers, other_headers):
    post(client, EUR, other_headers)

    assert client.get(URL, headers=headers).json()["count"] == 0


def test_quote_found_and_missing(client, headers):
    post(client, EUR, headers)

    found = client.get(f"{URL}quote/?currency=EUR&date=2026-03-31", headers=headers)
    same = client.get(f"{URL}quote/?currency=USD&date=2026-03-31", headers=headers)
    missing = client.get(f"{URL}quote/?currency=EUR&date=2026-04-02", headers=headers)
    invalid = client.get(f"{URL}quote/?currency=EUX&date=2026-04-01", headers=headers)

    assert found.status_code == 200
    assert found.json() == {
        "currency": "EUR",
        "base_currency": "USD",
        "rate": "1.08340000",
        "rate_date": "2026-03-01",
    }
    assert same.json()["rate"] == "1.00000000"
    assert same.json()["rate_date"] == "2026-03-31"
    assert missing.status_code == 404
    assert missing.json()["code"] == "missing_exchange_rate"
    assert missing.json()["field"] == "currency"
    assert missing.json()["value"] == "EUR"
    assert "POST /api/v1/exchange-rates/" in missing.json()["fix"]
    assert invalid.status_code == 400
    assert invalid.json()["field"] == "currency"


def test_quote_needs_date(client, headers):
    response = client.get(f"{URL}quote/?currency=EUR", headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "date"


def test_delete_rate(client, headers, tenant):
    [rate] = post(client, EUR, headers).json()["rates"]

    deleted = client.delete(f"{URL}{rate['id']}/", headers=headers)
    again = client.delete(f"{URL}{rate['id']}/", headers=headers)

    assert deleted.status_code == 204
    assert again.status_code == 404
    assert stored_rates(tenant) == {}
    with tenant_scope(tenant):
        assert AuditEvent.objects.filter(event="exchange_rate.deleted").count() == 1


def test_delete_other_tenants_rate_404(client, headers, other_headers, other_tenant):
    [theirs] = post(client, EUR, other_headers).json()["rates"]

    response = client.delete(f"{URL}{theirs['id']}/", headers=headers)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert stored_rates(other_tenant) != {}


def test_analyst_reads_but_cannot_write(analyst_client, headers, client, tenant):
    [rate] = post(client, EUR, headers).json()["rates"]

    listed = analyst_client.get(URL)
    quoted = analyst_client.get(f"{URL}quote/?currency=EUR&date=2026-03-02")
    written = analyst_client.post(URL, {**EUR, "rate": "2"}, content_type="application/json")
    deleted = analyst_client.delete(f"{URL}{rate['id']}/")

    assert listed.status_code == 200
    assert quoted.status_code == 200
    assert written.status_code == 403
    assert deleted.status_code == 403
    assert stored_rates(tenant) == {("EUR", "2026-03-01"): Decimal("1.0834")}


def test_manager_writes(manager_client, tenant):
    response = manager_client.post(URL, EUR, content_type="application/json")

    assert response.status_code == 201
    with tenant_scope(tenant):
        assert ExchangeRate.objects.get().created_by.username == "manager-acme"


def test_anonymous_rejected(client):
    assert client.get(URL).status_code == 401


CSV = b"currency,rate_date,rate,source\nEUR,2026-03-01,1.0834,ECB\ngbp,2026-03-01,1.27,\n"


def csv_upload(client, headers, content: bytes, **data):
    upload = SimpleUploadedFile("rates.csv", content, content_type="text/csv")
    return client.post("/api/v1/imports/exchange_rates/", {"file": upload, **data}, headers=headers)


def test_csv_import_creates_then_no_change(client, headers, tenant):
    first = csv_upload(client, headers, CSV)
    again = csv_upload(client, headers, CSV)

    assert first.status_code == 201, first.content
    assert first.json()["status"] == "succeeded"
    assert first.json()["rows_created"] == 2
    assert again.json()["rows_created"] == 0
    assert again.json()["rows_updated"] == 2
    with tenant_scope(tenant):
        gbp = ExchangeRate.objects.get(currency="GBP")
    assert gbp.source == "import"
    assert gbp.rate == Decimal("1.27")


def test_csv_import_errors_name_line_and_column(client, headers, tenant):
    content = (
        CSV + b"USD,2026-03-01,1,\nCHF,2026-13-01,1.1,\nJPY,2026-03-01,-1,\nEUR,2026-03-01,1.1,\n"
    )

    response = csv_upload(client, headers, content)

    body = response.json()
    assert body["status"] == "failed"
    errors = {(e["line"], e["column"]): e for e in body["errors"]}
    assert set(errors) == {(4, "currency"), (5, "rate_date"), (6, "rate"), (7, "rate_date")}
    assert "base currency" in errors[(4, "currency")]["message"]
    assert errors[(5, "rate_date")]["value"] == "2026-13-01"
    assert "positive" in errors[(6, "rate")]["message"]
    assert "Line 2" in errors[(7, "rate_date")]["message"]
    assert stored_rates(tenant) == {}


def test_csv_import_lenient_writes_valid_lines(client, headers, tenant):
    response = csv_upload(client, headers, CSV + b"ABC,2026-03-01,1,\n", strict="false")

    assert response.json()["status"] == "partial"
    assert set(stored_rates(tenant)) == {("EUR", "2026-03-01"), ("GBP", "2026-03-01")}


def test_page_lists_and_filters(staff_client, client, headers, tenant):
    post(client, [EUR, {"currency": "GBP", "rate_date": "2026-02-01", "rate": "1.25"}], headers)

    page = staff_client.get(PAGE)
    euros = staff_client.get(f"{PAGE}?currency=EUR")

    assert page.status_code == 200
    html = page.content.decode()
    assert "1.0834" in html
    assert "GBP" in html
    assert "Delete" in html
    assert "Import rates from CSV" in html
    assert "2026-02-01" not in euros.content.decode()


def test_page_add_and_delete(manager_client, tenant):
    added = manager_client.post(
        f"{PAGE}add/",
        {"currency": "eur", "rate_date": "2026-03-01", "rate": "1.0834", "source": ""},
    )

    assert added.status_code == 302
    with tenant_scope(tenant):
        rate = ExchangeRate.objects.get()
    assert rate.source == "manual"
    assert rate.created_by.username == "manager-acme"

    deleted = manager_client.post(f"{PAGE}{rate.pk}/delete/", {"confirmed": "1"})

    assert deleted.status_code == 302
    assert stored_rates(tenant) == {}


def test_page_add_error_shown(manager_client, tenant):
    response = manager_client.post(
        f"{PAGE}add/", {"currency": "USD", "rate_date": "2026-03-01", "rate": "1"}, follow=True
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "base currency" in " ".join(response.context["form"].errors["currency"])
    assert "Row 0" not in html
    assert stored_rates(tenant) == {}


def test_page_add_errors_at_fields(manager_client, tenant):
    response = manager_client.post(
        f"{PAGE}add/", {"currency": "EUR", "rate_date": "2017-02-30", "rate": "abc"}
    )

    errors = response.context["form"].errors
    assert response.status_code == 400
    assert errors["rate_date"] == ["Enter a real date, such as 2017-03-01."]
    assert 'id="id_rate_date_error"' in response.content.decode()
    assert stored_rates(tenant) == {}


def test_page_paste_and_upload_csv(manager_client, tenant):
    pasted = manager_client.post(f"{PAGE}import/", {"text": CSV.decode()})
    upload = SimpleUploadedFile("rates.csv", b"currency,rate_date,rate\nCHF,2026-03-01,1.13\n")
    uploaded = manager_client.post(f"{PAGE}import/", {"file": upload})
    broken = manager_client.post(f"{PAGE}import/", {"text": "currency,rate_date,rate\nEUR,x,1\n"})

    assert pasted.status_code == 302
    assert uploaded.status_code == 302
    assert set(stored_rates(tenant)) == {
        ("EUR", "2026-03-01"),
        ("GBP", "2026-03-01"),
        ("CHF", "2026-03-01"),
    }
    with tenant_scope(tenant):
        run = ImportRun.objects.filter(status=ImportRun.Status.FAILED).get()
    assert broken.url == reverse("crm:import_detail", kwargs={"pk": run.pk})


def test_page_analyst_reads_only(analyst_client, client, headers, tenant):
    [rate] = post(client, EUR, headers).json()["rates"]

    page = analyst_client.get(PAGE)
    added = analyst_client.post(f"{PAGE}add/", {**EUR, "rate": "2"})
    deleted = analyst_client.post(f"{PAGE}{rate['id']}/delete/")

    assert page.status_code == 200
    assert "Delete" not in page.content.decode()
    assert added.status_code == 403
    assert deleted.status_code == 403
    assert stored_rates(tenant) == {("EUR", "2026-03-01"): Decimal("1.0834")}


def test_ledger_page_links_rates(staff_client):
    assert PAGE in staff_client.get("/ledger/").content.decode()
