"""POST and GET /api/v1/revenue-events/: refunds and churn, and the reversals they write."""

import datetime
from decimal import Decimal

import pytest

from commissions.models import LedgerEntry, RevenueEvent
from commissions.services import accruals_write
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, CommissionPlanFactory, DealFactory, PartnerFactory

URL = "/api/v1/revenue-events/"


@pytest.fixture
def accrual(scoped) -> LedgerEntry:
    plan = CommissionPlanFactory(tenant=scoped, base_rate=Decimal("0.1000"))
    deal = DealFactory(
        tenant=scoped,
        external_id="opp-9",
        partner=PartnerFactory(tenant=scoped),
        account=AccountFactory(tenant=scoped, external_id="acme-co"),
        amount=Decimal("1000.00"),
        close_date=datetime.date(2026, 1, 1),
    )
    row = {
        "id": deal.pk, "partner_id": deal.partner_id, "amount": deal.amount,
        "currency": "USD", "won_fit_tier": "B", "won_fit_score": 60, "won_fit_version_id": None,
    }  # fmt: skip
    accruals_write(plan=plan, deals=[row])
    return LedgerEntry.objects.get(deal=deal)  # 100.00


def refund_body(**values) -> dict:
    return {
        "external_id": "rf-1",
        "kind": "refund",
        "occurred_on": "2026-02-01",
        "deal_external_id": "opp-9",
        "amount": "250.00",
        **values,
    }


def post(client, headers, body, capture):
    with capture(execute=True):
        return client.post(URL, body, content_type="application/json", headers=headers)


def test_refund_is_recorded_and_reversed(
    client, headers, accrual, django_capture_on_commit_callbacks
):
    response = post(client, headers, refund_body(), django_capture_on_commit_callbacks)

    assert response.status_code == 201
    assert response.json()["deal_external_id"] == "opp-9"
    listed = client.get(URL, headers=headers).json()["results"]
    (event,) = listed
    assert event["processed_at"] is not None
    (reversal,) = event["reversals"]
    assert reversal["reverses"] == accrual.pk
    assert reversal["amount"] == "-25.00"
    assert reversal["status"] == "pending"
    assert "rf-1" in reversal["memo"]
    ledger = client.get("/api/v1/ledger/?kind=reversal", headers=headers).json()["results"]
    assert [row["reverses"] for row in ledger] == [accrual.pk]


def test_resending_the_same_event_is_a_no_op(
    client, headers, accrual, django_capture_on_commit_callbacks
):
    post(client, headers, refund_body(), django_capture_on_commit_callbacks)

    response = post(client, headers, refund_body(), django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert RevenueEvent.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="reversal").count() == 1


def test_changing_a_processed_event_is_409(
    client, headers, accrual, django_capture_on_commit_callbacks
):
    post(client, headers, refund_body(), django_capture_on_commit_callbacks)

    response = post(
        client, headers, refund_body(occurred_on="2026-03-01"), django_capture_on_commit_callbacks
    )

    assert response.status_code == 409
    assert response.json()["field"] == "occurred_on"
    assert str(RevenueEvent.objects.get().occurred_on) == "2026-02-01"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(refund_body(amount="1000.01"), "amount", id="above-deal"),
        pytest.param(refund_body(kind="loss"), "kind", id="unknown-kind"),
        pytest.param(refund_body(currency="EUR"), "currency", id="currency"),
        pytest.param(
            {"external_id": "c1", "kind": "churn", "occurred_on": "2026-02-01"},
            "account_external_id",
            id="churn-without-account",
        ),
    ],
)
def test_invalid_event_is_400(client, headers, accrual, body, field):
    response = client.post(URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 400
    assert field in response.content.decode()
    assert not RevenueEvent.objects.exists()


def test_churn_reverses_the_unearned_part(
    client, headers, accrual, django_capture_on_commit_callbacks
):
    body = {
        "external_id": "ch-1",
        "kind": "churn",
        "occurred_on": "2026-01-31",  # 30 of 90 days served
        "account_external_id": "acme-co",
    }

    response = post(client, headers, body, django_capture_on_commit_callbacks)

    assert response.status_code == 201
    (event,) = client.get(URL + "?kind=churn", headers=headers).json()["results"]
    assert [r["amount"] for r in event["reversals"]] == ["-66.67"]


def test_other_tenants_deal_is_404_and_hidden(
    client, headers, other_headers, other_tenant, accrual, django_capture_on_commit_callbacks
):
    with tenant_scope(other_tenant):
        DealFactory(
            tenant=other_tenant, external_id="globex-deal",
            account=AccountFactory(tenant=other_tenant),
        )  # fmt: skip

    response = post(
        client,
        headers,
        refund_body(deal_external_id="globex-deal"),
        django_capture_on_commit_callbacks,
    )
    post(client, headers, refund_body(), django_capture_on_commit_callbacks)

    assert response.status_code == 404
    assert client.get(URL, headers=other_headers).json()["count"] == 0
    # The other tenant cannot refund this tenant's deal either.
    theirs = post(client, other_headers, refund_body(), django_capture_on_commit_callbacks)
    assert theirs.status_code == 404


@pytest.mark.parametrize(("sent", "stored"), [(0, 0), (45, 45), (None, 90)])
def test_plan_put_sets_the_clawback_window(client, headers, scoped, sent, stored):
    body = {"name": "Fit", "base_rate": "0.1000", "multiplier_a": "1.50",
            "multiplier_b": "1.00", "multiplier_c": "0.50", "multiplier_d": "0.00"}  # fmt: skip
    if sent is not None:
        body["clawback_days"] = sent

    response = client.put(
        "/api/v1/commission-plan/", body, content_type="application/json", headers=headers
    )

    assert response.status_code == 200
    assert response.json()["clawback_days"] == stored


def test_plan_put_rejects_a_negative_window(client, headers, scoped):
    body = {"name": "Fit", "base_rate": "0.1000", "multiplier_a": "1.50",
            "multiplier_b": "1.00", "multiplier_c": "0.50", "multiplier_d": "0.00",
            "clawback_days": -1}  # fmt: skip

    response = client.put(
        "/api/v1/commission-plan/", body, content_type="application/json", headers=headers
    )

    assert response.status_code == 400
    assert "clawback_days" in response.content.decode()
