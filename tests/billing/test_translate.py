"""Translation of Stripe events into Track360 actions, without the database."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from billing.actions import Churn, DealWon, Ignore, ProviderEvent, Refund
from billing.providers import PayloadInvalid
from billing.providers.stripe import _refs, translate
from tests.billing.conftest import payload


def event_of(data: dict) -> ProviderEvent:
    return ProviderEvent(
        event_id=data["id"],
        event_type=data["type"],
        occurred_at=datetime.datetime.fromtimestamp(data["created"], tz=datetime.UTC),
        payload=data,
        refs=_refs(data["type"], data["data"]["object"]),
    )


def translated(name: str, **changes) -> list:
    data = payload(name)
    data["data"]["object"].update(changes)
    return translate(event_of(data))


def test_subscription_create_is_new_deal():
    (action,) = translated("invoice_paid_subscription_create")

    assert isinstance(action, DealWon)
    assert action.external_id == "stripe:in_1Track360New0001"
    assert action.kind == "new"
    assert action.amount == Decimal("20000.00")
    assert action.currency == "USD"
    assert action.paid_at == datetime.datetime(2024, 3, 1, 10, 55, tzinfo=datetime.UTC)
    assert action.customer.customer_ref == "cus_Track360Acme"
    assert action.customer.email == "billing@acme.com"
    assert action.name == "Stripe invoice T360-0001"


def test_subscription_cycle_is_renewal_in_whole_yen():
    (action,) = translated("invoice_paid_subscription_cycle_jpy")

    assert action.kind == "renewal"
    # JPY has no minor unit, so 1,500,000 is ¥1,500,000, not ¥15,000.
    assert action.amount == Decimal("1500000")
    assert action.currency == "JPY"
    assert action.customer.customer_ref == "cus_Track360Kyoto"
    assert action.customer.account_external_id == "acc-kyoto"
    assert action.customer.email == "keiri@gmail.com"


def test_subscription_update_is_expansion_dated_by_event():
    data = payload("invoice_paid_subscription_update")

    (action,) = translate(event_of(data))

    assert action.kind == "expansion"
    assert action.amount == Decimal("1250.50")
    assert action.customer.domain == "www.Acme.com"
    # paid_at is null here, so the event's created time dates the deal.
    assert action.paid_at == datetime.datetime.fromtimestamp(data["created"], tz=datetime.UTC)


def test_three_decimal_currency():
    (action,) = translated("invoice_paid_subscription_create", currency="kwd", amount_paid=12345)

    assert action.amount == Decimal("12.345")
    assert action.currency == "KWD"


@pytest.mark.parametrize("currency", ["zzz", "us", 7, None])
def test_unknown_currency_is_rejected(currency):
    with pytest.raises(PayloadInvalid, match="ISO 4217"):
        translated("invoice_paid_subscription_create", currency=currency)


@pytest.mark.parametrize(
    "reason", ["manual", "subscription_threshold", "quote_accept", "subscription", None]
)
def test_other_billing_reasons_are_ignored(reason):
    (action,) = translated("invoice_paid_subscription_create", billing_reason=reason)

    assert isinstance(action, Ignore)
    assert "in_1Track360New0001" in action.reason


def test_invoice_paying_nothing_is_ignored():
    (action,) = translated("invoice_paid_subscription_create", amount_paid=0)

    assert isinstance(action, Ignore)
    assert "paid nothing" in action.reason


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"amount_paid": 19.99}, id="float-amount"),
        pytest.param({"amount_paid": -100}, id="negative-amount"),
        pytest.param({"amount_paid": None}, id="missing-amount"),
        pytest.param({"currency": "dollars"}, id="bad-currency"),
        pytest.param({"id": None}, id="missing-id"),
    ],
)
def test_malformed_invoice_raises(changes):
    with pytest.raises(PayloadInvalid):
        translated("invoice_paid_subscription_create", **changes)


def test_invoice_refs_include_payment():
    event = event_of(payload("invoice_paid_subscription_create"))

    assert event.refs == {
        "customer": "cus_Track360Acme",
        "invoice": "in_1Track360New0001",
        "charge": "ch_Track360New0001",
        "payment_intent": "pi_Track360New0001",
    }


def test_newer_invoice_refs_read_payments_list():
    event = event_of(payload("invoice_paid_subscription_cycle_jpy"))

    assert event.refs["payment_intent"] == "pi_Track360Renew0002"
    assert event.refs["customer"] == "cus_Track360Kyoto"


def test_charge_refunded_gives_one_refund_per_refund_id():
    first, second = translated("charge_refunded")

    assert isinstance(first, Refund)
    assert first.external_id == "stripe:re_Track360Second"
    assert first.amount == Decimal("2500.00")
    assert second.external_id == "stripe:re_Track360First"
    assert second.amount == Decimal("5000.00")
    assert first.invoice_ref == "in_1Track360New0001"
    assert first.charge_ref == "ch_Track360New0001"
    assert first.currency == "USD"


def test_charge_refunded_without_refund_list_is_ignored():
    # Only the cumulative amount_refunded is known, which refund.created events
    # may already have counted.
    (action,) = translated("charge_refunded", refunds=None)

    assert isinstance(action, Ignore)
    assert "refund.created" in action.reason


def test_refund_created_names_charge_not_invoice():
    (action,) = translated("refund_created")

    assert action.external_id == "stripe:re_Track360First"
    assert action.amount == Decimal("5000.00")
    assert action.invoice_ref == ""
    assert action.charge_ref == "ch_Track360New0001"
    assert action.payment_intent_ref == "pi_Track360New0001"
    assert action.occurred_at == datetime.datetime.fromtimestamp(1709809200, tz=datetime.UTC)


@pytest.mark.parametrize("status", ["pending", "failed", "canceled", "requires_action"])
def test_refund_not_succeeded_is_ignored(status):
    (action,) = translated("refund_created", status=status)

    assert isinstance(action, Ignore)
    assert status in action.reason


def test_subscription_deleted_is_churn_on_end_date():
    (action,) = translated("customer_subscription_deleted")

    assert isinstance(action, Churn)
    assert action.external_id == "stripe:sub_Track360Acme:deleted"
    assert action.occurred_at == datetime.datetime.fromtimestamp(1717200000, tz=datetime.UTC)
    assert action.customer.customer_ref == "cus_Track360Acme"


def test_subscription_deleted_without_end_uses_cancel_date():
    (action,) = translated("customer_subscription_deleted", ended_at=None)

    assert action.occurred_at == datetime.datetime.fromtimestamp(1717113600, tz=datetime.UTC)


def test_unknown_event_type_is_ignored():
    (action,) = translated("customer_created")

    assert isinstance(action, Ignore)
    assert "customer.created" in action.reason
