"""Processing of received Stripe events: deals, refunds, churn, duplicates and tenants."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import OperationalError
from django.utils import timezone

from billing.models import BillingEvent
from billing.processing import (
    SWEEP_GRACE,
    billing_event_process,
    billing_event_retry,
    billing_events_sweep,
)
from billing.tasks import process_billing_event_task
from commissions.models import RevenueEvent
from crm.models import Deal
from tenancy.errors import Conflict
from tenancy.scope import tenant_scope
from tests.billing.conftest import OTHER_SECRET, deliver, payload
from tests.factories import AccountFactory

Status = BillingEvent.Status


@pytest.fixture
def acme(tenant):
    with tenant_scope(tenant):
        return AccountFactory(tenant=tenant, external_id="acc-acme", domain="acme.com")


@pytest.fixture
def send(client, connection, django_capture_on_commit_callbacks):
    """Deliver a fixture event (with changes to its object) and run its task."""

    def send(name: str, *, event_id: str | None = None, **changes):
        data = payload(name)
        data["data"]["object"].update(changes)
        if event_id:
            data["id"] = event_id
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(client, connection, data)
        assert response.status_code == 200, response.content
        return response

    return send


def stored(tenant, event_id: str) -> BillingEvent:
    with tenant_scope(tenant):
        return BillingEvent.objects.get(event_id=event_id)


def test_invoice_paid_books_won_new_deal(tenant, acme, send):
    send("invoice_paid_subscription_create")

    with tenant_scope(tenant):
        deal = Deal.objects.get()
    assert deal.external_id == "stripe:in_1Track360New0001"
    assert deal.stage == Deal.Stage.WON
    assert deal.kind == "new"
    assert deal.amount == Decimal("20000.00")
    assert deal.currency == "USD"
    assert deal.close_date == datetime.date(2024, 3, 1)
    assert deal.account == acme
    event = stored(tenant, "evt_1Track360NewBiz0001")
    assert event.status == Status.PROCESSED
    assert event.account == acme
    assert event.error == ""
    assert event.outcome == [
        "booked new deal stripe:in_1Track360New0001: 20000.00 USD",
    ]


def test_close_date_is_in_tenant_time_zone(tenant, acme, send):
    # Paid 2024-03-01 10:55 UTC, which is already 2 March at UTC+14.
    tenant.time_zone = "Pacific/Kiritimati"
    tenant.save()

    send("invoice_paid_subscription_create")

    with tenant_scope(tenant):
        assert Deal.objects.get().close_date == datetime.date(2024, 3, 2)


def test_renewal_in_yen_matched_by_metadata(tenant, send):
    with tenant_scope(tenant):
        kyoto = AccountFactory(tenant=tenant, external_id="acc-kyoto", domain="kyoto.example.jp")

    send("invoice_paid_subscription_cycle_jpy")

    with tenant_scope(tenant):
        deal = Deal.objects.get()
    assert deal.kind == "renewal"
    assert deal.amount == Decimal("1500000")
    assert deal.currency == "JPY"
    assert deal.account == kyoto


def test_expansion_matched_by_metadata_domain(tenant, acme, send):
    send("invoice_paid_subscription_update")

    with tenant_scope(tenant):
        deal = Deal.objects.get()
    assert deal.kind == "expansion"
    assert deal.amount == Decimal("1250.50")
    assert deal.account == acme


def test_unknown_customer_is_unmatched_with_reason(tenant, send):
    send("invoice_paid_subscription_create")

    event = stored(tenant, "evt_1Track360NewBiz0001")
    assert event.status == Status.UNMATCHED
    assert "cus_Track360Acme" in event.error
    assert "billing@acme.com" in event.error
    assert "metadata.account_external_id" in event.error
    with tenant_scope(tenant):
        assert not Deal.objects.exists()


def test_personal_email_domain_never_matches(tenant, send):
    with tenant_scope(tenant):
        AccountFactory(tenant=tenant, external_id="acc-gmail", domain="gmail.com")

    # The yen invoice names acc-kyoto, which does not exist, and a gmail.com address.
    send("invoice_paid_subscription_cycle_jpy")

    event = stored(tenant, "evt_1Track360Renew0002")
    assert event.status == Status.UNMATCHED
    assert "acc-kyoto" in event.error


def test_later_invoice_reuses_customer_match(tenant, acme, send):
    send("invoice_paid_subscription_create")

    # A renewal with no email or metadata is matched through the same customer id.
    send(
        "invoice_paid_subscription_create",
        event_id="evt_renewal",
        id="in_renewal",
        billing_reason="subscription_cycle",
        customer_email=None,
    )

    with tenant_scope(tenant):
        renewal = Deal.objects.get(external_id="stripe:in_renewal")
    assert renewal.kind == "renewal"
    assert renewal.account == acme


def test_unknown_event_type_is_ignored(tenant, send):
    response = send("customer_created")

    assert response.json()["status"] == "received"
    event = stored(tenant, "evt_1Track360Customer0007")
    assert event.status == Status.IGNORED
    assert "customer.created" in event.error


def test_duplicate_event_is_stored_and_processed_once(tenant, acme, send):
    first = send("invoice_paid_subscription_create")
    second = send("invoice_paid_subscription_create")

    assert first.json()["duplicate"] is False
    assert second.json() == {"received": True, "duplicate": True, "status": "processed"}
    with tenant_scope(tenant):
        assert BillingEvent.objects.count() == 1
        assert Deal.objects.count() == 1
        assert BillingEvent.objects.get().attempts == 1


def test_processing_twice_writes_nothing_twice(tenant, acme, send):
    send("invoice_paid_subscription_create")
    event = stored(tenant, "evt_1Track360NewBiz0001")

    status = billing_event_process(tenant_id=tenant.pk, billing_event_id=event.pk)

    assert status == Status.PROCESSED
    assert stored(tenant, "evt_1Track360NewBiz0001").attempts == 1


def test_refund_before_its_invoice_is_unmatched(tenant, acme, send):
    send("refund_created")

    event = stored(tenant, "evt_1Track360RefundCreated0005")
    assert event.status == Status.UNMATCHED
    assert "ch_Track360New0001" in event.error
    with tenant_scope(tenant):
        assert not RevenueEvent.objects.exists()


def test_refund_events_never_count_a_refund_twice(tenant, acme, send):
    send("invoice_paid_subscription_create")

    # refund.created for the first refund, then charge.refunded listing both.
    send("refund_created")
    send("charge_refunded")

    with tenant_scope(tenant):
        refunds = {event.external_id: event.amount for event in RevenueEvent.objects.all()}
    assert refunds == {
        "stripe:re_Track360First": Decimal("5000.00"),
        "stripe:re_Track360Second": Decimal("2500.00"),
    }
    assert stored(tenant, "evt_1Track360ChargeRefund0004").outcome == [
        "recorded refund stripe:re_Track360Second of deal stripe:in_1Track360New0001: 2500.00",
        "confirmed refund stripe:re_Track360First of deal stripe:in_1Track360New0001: 5000.00",
    ]


def test_refund_found_through_newer_invoice_payments(tenant, send):
    with tenant_scope(tenant):
        AccountFactory(tenant=tenant, external_id="acc-kyoto", domain="kyoto.example.jp")
    send("invoice_paid_subscription_cycle_jpy")

    send(
        "refund_created",
        charge="ch_unknown",
        payment_intent="pi_Track360Renew0002",
        currency="jpy",
        amount=300000,
    )

    with tenant_scope(tenant):
        refund = RevenueEvent.objects.get()
    assert refund.deal.external_id == "stripe:in_1Track360Renew0002"
    assert refund.amount == Decimal("300000")


def test_refund_larger_than_deal_fails_with_reason(tenant, acme, send):
    send("invoice_paid_subscription_create")

    send("refund_created", amount=2500000)

    event = stored(tenant, "evt_1Track360RefundCreated0005")
    assert event.status == Status.FAILED
    assert "more than the deal amount" in event.error


def test_subscription_deleted_records_churn(tenant, acme, send):
    send("invoice_paid_subscription_create")

    send("customer_subscription_deleted")

    with tenant_scope(tenant):
        churn = RevenueEvent.objects.get(kind="churn")
    assert churn.external_id == "stripe:sub_Track360Acme:deleted"
    assert churn.account == acme
    assert churn.occurred_on == datetime.date(2024, 6, 1)


def test_churn_of_unknown_customer_is_unmatched(tenant, send):
    send("customer_subscription_deleted")

    event = stored(tenant, "evt_1Track360Cancel0006")
    assert event.status == Status.UNMATCHED
    assert "earlier invoices of customer cus_Track360Acme" in event.error


def test_token_of_one_tenant_never_touches_another(
    tenant, other_tenant, acme, connection, other_connection, client, send
):
    with tenant_scope(other_tenant):
        AccountFactory(tenant=other_tenant, external_id="acc-acme", domain="acme.com")

    send("invoice_paid_subscription_create")
    # Signed with the other tenant's secret but sent to this tenant's URL.
    wrong = deliver(client, connection, payload("customer_created"), secret=OTHER_SECRET)

    assert wrong.status_code == 400
    with tenant_scope(other_tenant):
        assert not Deal.objects.exists()
        assert not BillingEvent.objects.exists()
    with tenant_scope(tenant):
        assert Deal.objects.count() == 1


def test_same_event_id_in_two_tenants_is_two_events(
    tenant, other_tenant, connection, other_connection, client
):
    data = payload("customer_created")

    ours = deliver(client, connection, data)
    theirs = deliver(client, other_connection, data, secret=OTHER_SECRET)

    assert ours.json()["duplicate"] is False
    assert theirs.json()["duplicate"] is False
    assert BillingEvent.all_tenants.count() == 2


def test_lost_database_is_retried_then_failed(tenant, acme, connection, client, monkeypatch):
    deliver(client, connection, payload("invoice_paid_subscription_create"))
    event = stored(tenant, "evt_1Track360NewBiz0001")
    calls = []

    def lose_connection(**kwargs):
        calls.append(kwargs)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("billing.tasks.billing_event_process", lose_connection)

    # Eager retries run at once instead of after the countdown, and only without
    # propagation, which would raise the first Retry.
    monkeypatch.setitem(process_billing_event_task.app.conf, "task_eager_propagates", False)
    result = process_billing_event_task.apply(args=(tenant.pk, event.pk))

    assert result.get() == "failed"
    assert len(calls) == process_billing_event_task.max_retries + 1
    event = stored(tenant, "evt_1Track360NewBiz0001")
    assert event.status == Status.FAILED
    assert "server closed the connection" in event.error


def test_sweep_processes_events_whose_task_was_lost(tenant, acme, connection, client):
    # Outside django_capture_on_commit_callbacks the task is never sent, as when the
    # broker is down at commit.
    deliver(client, connection, payload("invoice_paid_subscription_create"))
    later = timezone.now() + SWEEP_GRACE + datetime.timedelta(seconds=1)

    too_soon = billing_events_sweep()
    swept = billing_events_sweep(now=later)
    again = billing_events_sweep(now=later)

    assert too_soon == 0
    assert swept == 1
    assert again == 0
    assert stored(tenant, "evt_1Track360NewBiz0001").status == Status.PROCESSED
    with tenant_scope(tenant):
        assert Deal.objects.count() == 1


def test_retry_after_account_is_added_books_the_deal(
    tenant, connection, client, send, django_capture_on_commit_callbacks
):
    send("invoice_paid_subscription_create")
    event = stored(tenant, "evt_1Track360NewBiz0001")
    assert event.status == Status.UNMATCHED
    with tenant_scope(tenant):
        AccountFactory(tenant=tenant, external_id="acc-acme", domain="acme.com")

    with tenant_scope(tenant), django_capture_on_commit_callbacks(execute=True):
        billing_event_retry(billing_event_id=event.pk)

    event = stored(tenant, "evt_1Track360NewBiz0001")
    assert event.status == Status.PROCESSED
    assert event.error == ""
    assert event.attempts == 2
    with tenant_scope(tenant):
        assert Deal.objects.get().external_id == "stripe:in_1Track360New0001"


def test_retry_of_processed_event_is_conflict(tenant, acme, send):
    send("invoice_paid_subscription_create")
    event = stored(tenant, "evt_1Track360NewBiz0001")

    with tenant_scope(tenant), pytest.raises(Conflict):
        billing_event_retry(billing_event_id=event.pk)


def test_unexpected_error_marks_event_failed(tenant, acme, connection, client, monkeypatch):
    deliver(client, connection, payload("invoice_paid_subscription_create"))
    event = stored(tenant, "evt_1Track360NewBiz0001")

    def crash(**kwargs):
        raise KeyError("lines")

    monkeypatch.setattr("billing.tasks.billing_event_process", crash)

    result = process_billing_event_task.apply(args=(tenant.pk, event.pk))

    assert result.get() == "failed"
    event = stored(tenant, "evt_1Track360NewBiz0001")
    assert event.status == Status.FAILED
    assert event.error == "Processing failed with an internal error: KeyError."
