import datetime
from decimal import Decimal

import pytest

from commissions.fx import exchange_rates_upsert
from commissions.models import LedgerEntry
from crm.models import Deal
from tenancy.scope import tenant_scope
from tests.api.conftest import count_queries
from tests.factories import (
    AccountFactory,
    CommissionPlanFactory,
    DealFactory,
    PartnerFactory,
    registration_create,
)

LIST_URL = "/api/v1/deals/"

OPEN_BODY = {
    "external_id": "opp-1",
    "stage": "open",
    "amount": "12500.50",
    "currency": "usd",
    "close_date": "2024-05-31",
    "name": "Acme renewal",
    "account_external_id": "acc-acme",
}


def detail_url(pk: int) -> str:
    return f"/api/v1/deals/{pk}/"


@pytest.fixture
def acme(scoped):
    return AccountFactory(
        tenant=scoped,
        external_id="acc-acme",
        name="Acme",
        domain="acme.com",
        industry="software",
        employees=500,
    )


# Create or update


def test_post_creates_deal(client, headers, acme):
    response = client.post(LIST_URL, OPEN_BODY, content_type="application/json", headers=headers)

    assert response.status_code == 201
    body = response.json()
    deal = Deal.objects.get()
    assert body.pop("created_at")
    assert body.pop("updated_at")
    assert body == {
        "id": deal.pk,
        "external_id": "opp-1",
        "name": "Acme renewal",
        "stage": "open",
        "amount": "12500.50",
        "currency": "USD",
        "product": "",
        "kind": "new",
        "engage_date": None,
        "close_date": "2024-05-31",
        "account": {"id": acme.pk, "external_id": "acc-acme", "name": "Acme", "domain": "acme.com"},
        "partner": None,
        "source": "direct",
        "pipeline_status": "n/a",
        "pipeline_error": "",
        "won_fit_score": None,
        "won_fit_tier": "",
        "processed_at": None,
    }
    assert deal.amount == Decimal("12500.50")
    assert deal.tenant_id == acme.tenant_id


def test_post_twice_creates_one_deal(client, headers, acme):
    first = client.post(LIST_URL, OPEN_BODY, content_type="application/json", headers=headers)
    second = client.post(LIST_URL, OPEN_BODY, content_type="application/json", headers=headers)

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert Deal.objects.count() == 1


def test_post_updates_existing_deal(client, headers, acme):
    client.post(LIST_URL, OPEN_BODY, content_type="application/json", headers=headers)
    changed = {**OPEN_BODY, "stage": "lost", "amount": "9000"}

    response = client.post(LIST_URL, changed, content_type="application/json", headers=headers)

    assert response.status_code == 200
    assert response.json()["stage"] == "lost"
    assert response.json()["amount"] == "9000.00"
    assert Deal.objects.get().stage == Deal.Stage.LOST


def test_post_normalises_account_domain(client, headers, acme):
    body = {**OPEN_BODY, "account_external_id": "", "account_domain": "https://www.Acme.com/x"}

    response = client.post(LIST_URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 201
    assert response.json()["account"]["id"] == acme.pk


def test_post_blank_currency_uses_tenant_base(client, headers, acme, tenant):
    body = {**OPEN_BODY, "currency": ""}

    response = client.post(LIST_URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 201
    assert response.json()["currency"] == tenant.base_currency


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        pytest.param(
            "amount", "-5", "Ensure this value is greater than or equal to 0.", id="negative"
        ),
        pytest.param(
            "amount",
            "10.125",
            "Ensure that there are no more than 2 decimal places.",
            id="three-decimals",
        ),
        pytest.param("amount", "ten", "A valid number is required.", id="not-a-number"),
        pytest.param(
            "currency",
            "XXX1",
            "Expected an ISO 4217 currency code such as USD or EUR.",
            id="bad-currency",
        ),
        pytest.param(
            "stage",
            "maybe",
            "Expected one of open, won, lost (or Prospecting, Engaging, Closed Won, Closed Lost).",
            id="bad-stage",
        ),
        pytest.param(
            "close_date",
            "31/05/2024",
            "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            id="bad-date",
        ),
        pytest.param(
            "external_id",
            "x" * 101,
            "Ensure this field has no more than 100 characters.",
            id="long-external-id",
        ),
        pytest.param(
            "account_domain",
            "localhost",
            "Expected a web domain such as acme.com.",
            id="bad-domain",
        ),
    ],
)
def test_post_rejects_invalid_field(client, headers, acme, field, value, message):
    body = {**OPEN_BODY, field: value}

    response = client.post(LIST_URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "The request has invalid fields; see errors.",
        "errors": [{"field": field, "value": value, "message": message}],
    }
    assert Deal.objects.count() == 0


def test_post_rejects_decimals_currency_lacks(client, headers, acme, tenant):
    tenant.base_currency = "JPY"
    tenant.save()
    body = {**OPEN_BODY, "currency": "JPY", "amount": "100.50"}

    response = client.post(LIST_URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "amount", "value": "100.50", "message": "JPY amounts take at most 0 decimals."}
    ]


def test_post_accepts_whole_jpy_amount(client, headers, acme, tenant):
    tenant.base_currency = "JPY"
    tenant.save()
    body = {**OPEN_BODY, "currency": "JPY", "amount": "100"}

    response = client.post(LIST_URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 201
    assert Deal.objects.get().amount == Decimal("100")


def test_post_accepts_other_currency_without_rate(client, headers, acme):
    body = {**OPEN_BODY, "currency": "EUR"}

    response = client.post(LIST_URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 201
    deal = Deal.objects.get()
    assert (deal.currency, deal.amount, deal.amount_base) == ("EUR", Decimal("12500.50"), None)


def test_post_converts_other_currency_at_close_date_rate(client, headers, acme, tenant):
    exchange_rates_upsert(
        tenant=tenant,
        rows=[
            {"currency": "EUR", "rate_date": "2024-05-01", "rate": "1.1"},
            {"currency": "EUR", "rate_date": "2024-06-01", "rate": "2"},
        ],
    )
    body = {**OPEN_BODY, "currency": "EUR", "amount": "100.05"}

    client.post(LIST_URL, body, content_type="application/json", headers=headers)

    # The rate of 1 May is the latest on or before the close date of 31 May:
    # 100.05 × 1.1 = 110.055, rounded half up to cents.
    assert Deal.objects.get().amount_base == Decimal("110.06")


def test_post_accepts_crm_stage_names(client, headers, acme):
    body = {**OPEN_BODY, "stage": "Closed Lost"}

    response = client.post(LIST_URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 201
    assert Deal.objects.get().stage == "lost"


def test_post_rejects_won_deal_in_future(client, headers, acme):
    body = {**OPEN_BODY, "stage": "won", "close_date": "2099-01-01"}

    response = client.post(LIST_URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 400
    assert response.json()["field"] == "close_date"
    assert response.json()["value"] == "2099-01-01"


def test_post_requires_external_id(client, headers, acme):
    body = {key: value for key, value in OPEN_BODY.items() if key != "external_id"}

    response = client.post(LIST_URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "external_id", "message": "This field is required."}
    ]


def test_post_rejects_unknown_account(client, headers, acme):
    body = {**OPEN_BODY, "account_external_id": "acc-missing"}

    response = client.post(LIST_URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "No account has this external_id.",
        "field": "account_external_id",
        "value": "acc-missing",
        "fix": "Create the account first, or send account_domain instead.",
    }


def test_post_rejects_unknown_partner(client, headers, acme):
    body = {**OPEN_BODY, "partner_external_id": "partner-missing"}

    response = client.post(LIST_URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 400
    assert response.json()["field"] == "partner_external_id"
    assert response.json()["value"] == "partner-missing"


def test_post_won_deal_needs_close_date(client, headers, acme):
    body = {**OPEN_BODY, "stage": "won", "close_date": None}

    response = client.post(LIST_URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 400
    assert response.json()["field"] == "close_date"
    assert Deal.objects.count() == 0


def test_post_cannot_use_other_tenant_account(client, headers, other_tenant, scoped):
    with tenant_scope(other_tenant):
        AccountFactory(tenant=other_tenant, external_id="acc-globex")
    body = {**OPEN_BODY, "account_external_id": "acc-globex"}

    response = client.post(LIST_URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 400
    assert response.json()["field"] == "account_external_id"


def test_post_same_external_id_per_tenant(client, headers, other_headers, other_tenant, acme):
    with tenant_scope(other_tenant):
        AccountFactory(tenant=other_tenant, external_id="acc-acme", domain="acme-globex.com")

    ours = client.post(LIST_URL, OPEN_BODY, content_type="application/json", headers=headers)
    theirs = client.post(
        LIST_URL, OPEN_BODY, content_type="application/json", headers=other_headers
    )

    assert ours.status_code == 201
    assert theirs.status_code == 201
    assert Deal.all_tenants.filter(external_id="opp-1").count() == 2


# Won deals and commissions


@pytest.fixture
def referred_program(scoped, icp_version):
    """An account in tier A that partner "p-north" referred, and a 10 % plan."""
    partner = PartnerFactory(tenant=scoped, external_id="p-north", name="North Partners")
    account = AccountFactory(
        tenant=scoped,
        external_id="acc-acme",
        name="Acme",
        domain="acme.com",
        industry="software",
        employees=500,
    )
    registration_create(partner, "acme.com", datetime.date(2024, 1, 15))
    plan = CommissionPlanFactory(tenant=scoped, base_rate=Decimal("0.1000"))
    return {"partner": partner, "account": account, "plan": plan}


WON_BODY = {
    "external_id": "opp-won",
    "stage": "won",
    "amount": "20000.00",
    "currency": "USD",
    "close_date": "2024-03-01",
    "account_external_id": "acc-acme",
}


def test_won_deal_books_one_commission(
    client, headers, referred_program, icp_version, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(LIST_URL, WON_BODY, content_type="application/json", headers=headers)

    assert response.status_code == 201
    entry = LedgerEntry.objects.get()
    deal = Deal.objects.get()
    # 20,000.00 × rate 0.1000 × tier A multiplier 1.50
    assert entry.amount == Decimal("3000.00")
    assert entry.base_amount == Decimal("20000.00")
    assert entry.multiplier == Decimal("1.50")
    assert entry.fit_tier == "A"
    assert entry.fit_score == 100
    assert entry.icp_version == icp_version
    assert entry.partner == referred_program["partner"]
    assert entry.deal == deal
    assert deal.pipeline_status == Deal.PipelineStatus.PROCESSED


def test_won_deal_detail_after_processing(
    client, headers, referred_program, icp_version, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(LIST_URL, WON_BODY, content_type="application/json", headers=headers)

    body = client.get(detail_url(created.json()["id"]), headers=headers).json()

    assert created.json()["pipeline_status"] == "pending"
    assert body["pipeline_status"] == "processed"
    assert body["processed_at"] is not None
    assert body["won_fit_score"] == 100
    assert body["won_fit_tier"] == "A"
    assert body["source"] == "partner"
    assert body["partner"] == {
        "id": referred_program["partner"].pk,
        "external_id": "p-north",
        "name": "North Partners",
    }


def test_won_deal_posted_twice_books_once(
    client, headers, referred_program, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(LIST_URL, WON_BODY, content_type="application/json", headers=headers)
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(LIST_URL, WON_BODY, content_type="application/json", headers=headers)

    assert first.status_code == 201
    assert second.status_code == 200
    assert Deal.objects.count() == 1
    assert LedgerEntry.objects.count() == 1


def test_won_deal_naming_partner_posted_twice(
    client, headers, referred_program, django_capture_on_commit_callbacks
):
    body = {**WON_BODY, "partner_external_id": "p-north"}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(LIST_URL, body, content_type="application/json", headers=headers)
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(LIST_URL, body, content_type="application/json", headers=headers)

    assert first.status_code == 201
    assert second.status_code == 200
    assert LedgerEntry.objects.get().amount == Decimal("3000.00")


def test_booked_deal_amount_change_conflicts(
    client, headers, referred_program, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(LIST_URL, WON_BODY, content_type="application/json", headers=headers)
    changed = {**WON_BODY, "amount": "25000.00"}

    response = client.post(LIST_URL, changed, content_type="application/json", headers=headers)

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert response.json()["field"] == "amount"
    assert response.json()["value"] == "25000.00"
    assert LedgerEntry.objects.get().amount == Decimal("3000.00")


# Detail


def test_get_returns_deal(client, headers, acme):
    deal = DealFactory(tenant=acme.tenant, account=acme, external_id="opp-9")

    response = client.get(detail_url(deal.pk), headers=headers)

    assert response.status_code == 200
    assert response.json()["external_id"] == "opp-9"
    assert response.json()["amount"] == "1000.00"
    assert response.json()["account"]["external_id"] == "acc-acme"


def test_get_other_tenant_deal_not_found(client, headers, other_tenant, scoped):
    with tenant_scope(other_tenant):
        account = AccountFactory(tenant=other_tenant)
        deal = DealFactory(tenant=other_tenant, account=account)

    response = client.get(detail_url(deal.pk), headers=headers)

    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "No deal has this id.",
        "field": "id",
        "value": deal.pk,
        "fix": "List deals with GET /api/v1/deals/ to find the id.",
    }


# List


@pytest.fixture
def deal_set(scoped, acme):
    partner = PartnerFactory(tenant=scoped, external_id="p-1", name="Partner One")
    return {
        "won_partner": DealFactory(
            tenant=scoped,
            account=acme,
            external_id="d-won-partner",
            partner=partner,
            source=Deal.Source.PARTNER,
            close_date=datetime.date(2024, 2, 10),
        ),
        "won_direct": DealFactory(
            tenant=scoped,
            account=acme,
            external_id="d-won-direct",
            close_date=datetime.date(2024, 4, 20),
        ),
        "lost": DealFactory(
            tenant=scoped,
            account=acme,
            external_id="d-lost",
            stage=Deal.Stage.LOST,
            close_date=datetime.date(2023, 12, 1),
        ),
        "open": DealFactory(
            tenant=scoped,
            account=None,
            external_id="d-open",
            stage=Deal.Stage.OPEN,
            close_date=None,
        ),
        "partner": partner,
    }


def list_external_ids(client, headers, query: str = "") -> list[str]:
    response = client.get(LIST_URL + query, headers=headers)
    assert response.status_code == 200
    return [row["external_id"] for row in response.json()["results"]]


def test_list_orders_by_close_date(client, headers, deal_set):
    response = client.get(LIST_URL, headers=headers)

    body = response.json()
    assert body["count"] == 4
    assert body["next"] is None
    assert [row["external_id"] for row in body["results"]] == [
        "d-won-direct",
        "d-won-partner",
        "d-lost",
        "d-open",
    ]
    assert body["results"][3]["account"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("?stage=won", ["d-won-direct", "d-won-partner"], id="stage"),
        pytest.param("?stage=lost", ["d-lost"], id="stage-lost"),
        pytest.param("?source=partner", ["d-won-partner"], id="source"),
        pytest.param("?close_date_from=2024-01-01", ["d-won-direct", "d-won-partner"], id="from"),
        pytest.param("?close_date_to=2024-02-10", ["d-won-partner", "d-lost"], id="to"),
        pytest.param(
            "?close_date_from=2024-02-10&close_date_to=2024-02-10",
            ["d-won-partner"],
            id="one-day",
        ),
    ],
)
def test_list_filters(client, headers, deal_set, query, expected):
    assert list_external_ids(client, headers, query) == expected


def test_list_filters_by_partner(client, headers, deal_set):
    query = f"?partner={deal_set['partner'].pk}"

    assert list_external_ids(client, headers, query) == ["d-won-partner"]


def test_list_pages_with_limit_and_offset(client, headers, deal_set):
    response = client.get(LIST_URL + "?limit=2&offset=1", headers=headers)

    body = response.json()
    assert body["count"] == 4
    assert [row["external_id"] for row in body["results"]] == ["d-won-partner", "d-lost"]
    assert body["next"].endswith("?limit=2&offset=3")
    assert body["previous"].endswith("?limit=2")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param("?stage=maybe", "stage", id="stage"),
        pytest.param("?partner=abc", "partner", id="partner"),
        pytest.param("?close_date_from=yesterday", "close_date_from", id="date"),
        pytest.param(
            "?close_date_from=2024-02-01&close_date_to=2024-01-01", "close_date_to", id="range"
        ),
    ],
)
def test_list_rejects_invalid_filter(client, headers, deal_set, query, field):
    response = client.get(LIST_URL + query, headers=headers)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_list_omits_other_tenant_deals(client, headers, other_headers, other_tenant, deal_set):
    with tenant_scope(other_tenant):
        account = AccountFactory(tenant=other_tenant)
        DealFactory(tenant=other_tenant, account=account, external_id="d-globex")

    ours = list_external_ids(client, headers)
    theirs = list_external_ids(client, other_headers)

    assert "d-globex" not in ours
    assert len(ours) == 4
    assert theirs == ["d-globex"]


def test_list_query_count_is_fixed(client, headers, deal_set, acme):
    few = count_queries(client, LIST_URL, headers)
    partner = PartnerFactory(tenant=acme.tenant)
    for _ in range(10):
        account = AccountFactory(tenant=acme.tenant)
        DealFactory(tenant=acme.tenant, account=account, partner=partner)

    many = count_queries(client, LIST_URL, headers)

    # API key lookup, count, page
    assert few == 3
    assert many == 3


def test_won_deal_in_other_currency_waits_for_rate_then_books_converted(
    client, headers, referred_program, icp_version, tenant, django_capture_on_commit_callbacks
):
    body = {**WON_BODY, "currency": "EUR", "amount": "1000.00"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(LIST_URL, body, content_type="application/json", headers=headers)

    deal = Deal.objects.get()
    assert deal.pipeline_status == Deal.PipelineStatus.PENDING
    assert "No EUR→USD exchange rate for 2024-03-01" in deal.pipeline_error
    assert not LedgerEntry.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        exchange_rates_upsert(
            tenant=tenant, rows=[{"currency": "EUR", "rate_date": "2024-02-28", "rate": "1.0825"}]
        )

    deal.refresh_from_db()
    entry = LedgerEntry.objects.get()
    assert deal.pipeline_status == Deal.PipelineStatus.PROCESSED
    assert deal.amount_base == Decimal("1082.50")
    # 1,000.00 EUR × 1.0825 = 1,082.50 USD, × 10 % × 1.50 for tier A.
    assert (entry.deal_amount, entry.deal_currency) == (Decimal("1000.00"), "EUR")
    assert entry.exchange_rate == Decimal("1.0825")
    assert (entry.base_amount, entry.currency) == (Decimal("1082.50"), "USD")
    assert entry.amount == Decimal("162.38")
