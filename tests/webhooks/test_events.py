import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commissions.models import LedgerEntry, Payout
from commissions.payouts import payout_approve
from commissions.reversals import revenue_event_process
from crm.models import Deal
from crm.pipeline import deals_process
from partners.services import partner_scores_refresh
from tests.factories import (
    AccountFactory,
    CommissionPlanFactory,
    DealFactory,
    PartnerFactory,
    UserFactory,
)
from tests.pipeline.conftest import make_active_version
from webhooks import events
from webhooks.events import event_emit, events_write
from webhooks.models import WebhookDelivery, WebhookEvent

from .conftest import endpoint_create

ALL_TYPES = [
    "deal.scored",
    "commission.created",
    "commission.reversed",
    "payout.approved",
    "partner.scored",
]


@pytest.fixture
def enqueued(monkeypatch):
    """Record the sending tasks the emission starts, instead of sending."""
    calls = []
    monkeypatch.setattr(
        events, "enqueue_on_commit", lambda task, **kwargs: calls.append(kwargs["delivery_ids"])
    )
    return calls


@pytest.fixture
def booked_program(scoped):
    make_active_version(scoped)
    CommissionPlanFactory(tenant=scoped, base_rate=Decimal("0.1000"))
    return PartnerFactory(tenant=scoped, external_id="p1", name="Referrer")


def _won_deals(partner, count: int, prefix: str) -> list[Deal]:
    deals = []
    for number in range(count):
        account = AccountFactory(domain=f"{prefix}{number}.com", industry="software")
        deals.append(
            DealFactory(
                external_id=f"{prefix}-{number}",
                account=account,
                partner=partner,
                partner_named=True,
                source=Deal.Source.PARTNER,
                amount=Decimal("1000.00"),
                close_date=datetime.date(2017, 6, 1),
                pipeline_status=Deal.PipelineStatus.PENDING,
            )
        )
    return deals


def _webhook_queries(captured) -> int:
    return sum("webhooks_" in query["sql"] for query in captured.captured_queries)


def test_no_endpoint_means_no_payload_and_one_query(scoped, enqueued):
    built = []

    with CaptureQueriesContext(connection) as captured:
        events_write(
            tenant_id=scoped.pk,
            event_type="deal.scored",
            payload=lambda: built.append(1) or [{"id": 1}],
        )

    assert built == []
    assert len(captured.captured_queries) == 1
    assert WebhookEvent.objects.count() == 0


def test_inactive_and_unsubscribed_endpoints_get_nothing(scoped, enqueued):
    endpoint_create(scoped, "https://a.example.com/", event_types=["payout.approved"])
    endpoint_create(scoped, "https://b.example.com/", event_types=["deal.scored"], is_active=False)

    assert events_write(tenant_id=scoped.pk, event_type="deal.scored", payload={"id": 1}) == []


def test_rerun_emits_no_second_event(scoped, enqueued):
    endpoint_create(scoped, "https://a.example.com/")

    first = events_write(tenant_id=scoped.pk, event_type="deal.scored", payload=[{"id": 1}])
    second = events_write(
        tenant_id=scoped.pk, event_type="deal.scored", payload=[{"id": 1}, {"id": 2}]
    )

    assert len(first) == 1
    assert len(second) == 1
    assert WebhookEvent.objects.count() == 2
    assert WebhookDelivery.objects.count() == 2


def test_other_tenants_endpoint_gets_nothing(scoped, other_tenant, enqueued):
    endpoint_create(other_tenant, "https://other.example.com/")

    assert events_write(tenant_id=scoped.pk, event_type="deal.scored", payload={"id": 1}) == []
    assert WebhookDelivery.all_tenants.count() == 0


def test_emit_waits_for_commit(scoped, enqueued, django_capture_on_commit_callbacks):
    endpoint_create(scoped, "https://a.example.com/")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        event_emit(scoped.pk, "deal.scored", {"id": 1})
    assert WebhookEvent.objects.count() == 0

    callbacks[0]()
    assert WebhookEvent.objects.count() == 1


def test_pipeline_emits_scored_deals_and_accruals(
    booked_program, enqueued, django_capture_on_commit_callbacks
):
    tenant = booked_program.tenant
    endpoint_create(tenant, "https://a.example.com/", event_types=ALL_TYPES)
    deals = _won_deals(booked_program, 3, "small")

    with django_capture_on_commit_callbacks(execute=True):
        deals_process(tenant_id=tenant.pk)

    scored = WebhookEvent.objects.filter(type="deal.scored").order_by("pk")
    created = WebhookEvent.objects.filter(type="commission.created")
    entry = LedgerEntry.objects.get(deal=deals[0])
    assert [event.payload["id"] for event in scored] == [deal.pk for deal in deals]
    assert scored[0].payload["won_fit_tier"] == Deal.objects.get(pk=deals[0].pk).won_fit_tier
    assert scored[0].payload["amount"] == "1000.00"
    assert created.count() == 3
    # Amounts show their currency's decimals, as the REST API shows them.
    assert created.get(payload__id=entry.pk).payload["amount"] == f"{entry.amount:.2f}"
    assert sum(len(ids) for ids in enqueued) == WebhookDelivery.objects.count()


def test_pipeline_emission_queries_do_not_grow(
    booked_program, enqueued, django_capture_on_commit_callbacks
):
    tenant = booked_program.tenant
    endpoint_create(tenant, "https://a.example.com/", event_types=ALL_TYPES)
    endpoint_create(tenant, "https://b.example.com/", event_types=["deal.scored"])

    _won_deals(booked_program, 2, "few")
    with (
        CaptureQueriesContext(connection) as few,
        django_capture_on_commit_callbacks(execute=True),
    ):
        deals_process(tenant_id=tenant.pk)
    _won_deals(booked_program, 40, "many")
    with (
        CaptureQueriesContext(connection) as many,
        django_capture_on_commit_callbacks(execute=True),
    ):
        deals_process(tenant_id=tenant.pk)

    assert WebhookEvent.objects.filter(type="deal.scored").count() == 42
    assert WebhookDelivery.objects.filter(event__type="deal.scored").count() == 42 * 2
    assert WebhookDelivery.objects.filter(event__type="commission.created").count() == 42
    assert _webhook_queries(few) == _webhook_queries(many)


def test_payout_approval_emits(
    scoped, booked_program, enqueued, django_capture_on_commit_callbacks
):
    endpoint_create(scoped, "https://a.example.com/", event_types=["payout.approved"])
    payout = Payout.objects.create(
        partner=booked_program,
        period_start=datetime.date(2017, 6, 1),
        period_end=datetime.date(2017, 6, 30),
        currency="USD",
        total=Decimal("100.00"),
        entry_count=0,
        min_payout_amount=Decimal("50.00"),
    )

    with django_capture_on_commit_callbacks(execute=True):
        payout_approve(payout_id=payout.pk, actor=UserFactory(username="approver"))

    event = WebhookEvent.objects.get(type="payout.approved")
    assert event.payload["id"] == payout.pk
    assert event.payload["status"] == "approved"
    assert event.payload["total"] == "100.00"


def test_partner_score_refresh_emits(
    scoped, booked_program, enqueued, django_capture_on_commit_callbacks
):
    endpoint_create(scoped, "https://a.example.com/", event_types=["partner.scored"])

    with django_capture_on_commit_callbacks(execute=True):
        partner_scores_refresh(tenant=scoped)

    event = WebhookEvent.objects.get(type="partner.scored")
    assert event.payload["partner_id"] == booked_program.pk
    assert "overlap_score" in event.payload


def test_refund_reversal_emits_once(scoped, enqueued, django_capture_on_commit_callbacks):
    from tests.commissions.test_reversals import accrue, refund

    endpoint_create(scoped, "https://a.example.com/", event_types=["commission.reversed"])
    plan = CommissionPlanFactory(tenant=scoped, base_rate=Decimal("0.1000"))
    accrual = accrue(plan)

    with django_capture_on_commit_callbacks(execute=True):
        event = refund(accrual, "400.00")
        revenue_event_process(tenant_id=scoped.pk, event_id=event.pk)
    with django_capture_on_commit_callbacks(execute=True):
        revenue_event_process(tenant_id=scoped.pk, event_id=event.pk)

    reversal = LedgerEntry.objects.get(kind=LedgerEntry.Kind.REVERSAL)
    (emitted,) = WebhookEvent.objects.filter(type="commission.reversed")
    assert emitted.payload["id"] == reversal.pk
    assert emitted.payload["reverses_id"] == accrual.pk
    assert emitted.payload["amount"] == f"{reversal.amount:.2f}"
