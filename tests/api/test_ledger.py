from decimal import Decimal

import pytest

from commissions.models import LedgerEntry
from tenancy.scope import tenant_scope
from tests.api.conftest import count_queries
from tests.factories import AccountFactory, CommissionPlanFactory, DealFactory, PartnerFactory

LIST_URL = "/api/v1/ledger/"


def entry(partner, deal, key: str, **values) -> LedgerEntry:
    defaults = {
        "kind": LedgerEntry.Kind.ACCRUAL,
        "status": LedgerEntry.Status.PENDING,
        "base_amount": Decimal("20000.00"),
        "rate": Decimal("0.1000"),
        "multiplier": Decimal("1.50"),
        "fit_tier": "A",
        "fit_score": 92,
        "amount": Decimal("3000.00"),
        "currency": "USD",
    }
    return LedgerEntry.objects.create(
        tenant_id=partner.tenant_id,
        partner=partner,
        deal=deal,
        idempotency_key=key,
        **{**defaults, **values},
    )


@pytest.fixture
def ledger(scoped, icp_version):
    plan = CommissionPlanFactory(tenant=scoped)
    north = PartnerFactory(tenant=scoped, name="North Partners")
    south = PartnerFactory(tenant=scoped, name="South Agency")
    account = AccountFactory(tenant=scoped)
    deal = DealFactory(tenant=scoped, account=account, external_id="opp-7", partner=north)
    accrual = entry(
        north,
        deal,
        "accrual:deal:opp-7",
        plan=plan,
        icp_version=icp_version,
        memo="10% of deal value × 1.50 for fit tier A",
    )
    bonus = entry(
        south,
        None,
        "bonus:q1",
        kind=LedgerEntry.Kind.BONUS,
        status=LedgerEntry.Status.APPROVED,
        base_amount=Decimal("0.00"),
        rate=Decimal("0.0000"),
        multiplier=Decimal("1.00"),
        fit_tier="",
        fit_score=None,
        amount=Decimal("250.00"),
    )
    return {"north": north, "south": south, "accrual": accrual, "bonus": bonus}


def test_list_returns_entry_fields(client, headers, ledger):
    response = client.get(LIST_URL, headers=headers)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    rows = {row["idempotency_key"]: row for row in body["results"]}
    accrual = rows["accrual:deal:opp-7"]
    assert accrual.pop("created_at")
    assert accrual == {
        "id": ledger["accrual"].pk,
        "partner": {"id": ledger["north"].pk, "name": "North Partners"},
        "plan": {"id": ledger["accrual"].plan_id, "name": "Fit-weighted"},
        "deal_external_id": "opp-7",
        "kind": "accrual",
        "status": "pending",
        "idempotency_key": "accrual:deal:opp-7",
        "base_amount": "20000.00",
        "rate": "0.1000",
        "multiplier": "1.50",
        "partner_segment": None,
        "segment_multiplier": None,
        "fit_tier": "A",
        "fit_score": 92,
        "icp_version_number": 1,
        "amount": "3000.00",
        "currency": "USD",
        "memo": "10% of deal value × 1.50 for fit tier A",
        "reverses": None,
        # Entries written before plan rules and conversion leave these empty.
        "rate_source": "",
        "rate_source_detail": "",
        "deal_kind": "",
        "flat_amount": None,
        "band_multiplier": None,
        "partner_tier_multiplier": None,
        "uncapped_amount": None,
        "deal_amount": None,
        "deal_currency": "",
        "exchange_rate": None,
        "original": None,
    }
    assert rows["bonus:q1"]["deal_external_id"] is None
    assert rows["bonus:q1"]["icp_version_number"] is None
    assert rows["bonus:q1"]["fit_score"] is None


def test_list_newest_first(client, headers, ledger):
    response = client.get(LIST_URL, headers=headers)

    keys = [row["idempotency_key"] for row in response.json()["results"]]
    assert keys == ["bonus:q1", "accrual:deal:opp-7"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("?status=approved", ["bonus:q1"], id="status"),
        pytest.param("?status=paid", [], id="status-none"),
        pytest.param("?kind=accrual", ["accrual:deal:opp-7"], id="kind"),
        pytest.param("?kind=bonus&status=approved", ["bonus:q1"], id="kind-and-status"),
    ],
)
def test_list_filters(client, headers, ledger, query, expected):
    response = client.get(LIST_URL + query, headers=headers)

    assert [row["idempotency_key"] for row in response.json()["results"]] == expected


def test_list_filters_by_partner(client, headers, ledger):
    response = client.get(f"{LIST_URL}?partner={ledger['north'].pk}", headers=headers)

    keys = [row["idempotency_key"] for row in response.json()["results"]]
    assert keys == ["accrual:deal:opp-7"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param("?status=owed", "status", id="status"),
        pytest.param("?kind=refund", "kind", id="kind"),
        pytest.param("?partner=0", "partner", id="partner"),
    ],
)
def test_list_rejects_invalid_filter(client, headers, ledger, query, field):
    response = client.get(LIST_URL + query, headers=headers)

    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_list_omits_other_tenant_entries(client, headers, other_headers, other_tenant, ledger):
    with tenant_scope(other_tenant):
        partner = PartnerFactory(tenant=other_tenant)
        entry(partner, None, "bonus:globex")

    ours = client.get(LIST_URL, headers=headers).json()["results"]
    theirs = client.get(LIST_URL, headers=other_headers).json()["results"]

    assert "bonus:globex" not in [row["idempotency_key"] for row in ours]
    assert [row["idempotency_key"] for row in theirs] == ["bonus:globex"]


def test_list_other_tenant_partner_filter_is_empty(client, headers, other_tenant, ledger):
    with tenant_scope(other_tenant):
        partner = PartnerFactory(tenant=other_tenant)
        entry(partner, None, "bonus:globex")

    response = client.get(f"{LIST_URL}?partner={partner.pk}", headers=headers)

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_list_query_count_is_fixed(client, headers, ledger, scoped, icp_version):
    few = count_queries(client, LIST_URL, headers)
    for number in range(10):
        partner = PartnerFactory(tenant=scoped)
        deal = DealFactory(tenant=scoped, account=AccountFactory(tenant=scoped), partner=partner)
        entry(partner, deal, f"accrual:extra:{number}", icp_version=icp_version)

    many = count_queries(client, LIST_URL, headers)

    # API key lookup, count, page
    assert few == 3
    assert many == 3
