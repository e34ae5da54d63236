"""The sweep of unprocessed refund and churn events, and reversals of late accruals."""

import datetime
import io
import uuid
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from commissions.models import LedgerEntry, RevenueEvent
from commissions.reversals import (
    revenue_event_process,
    revenue_event_record,
    revenue_events_sweep,
    reversals_catch_up,
)
from commissions.services import accruals_write
from commissions.tasks import sweep_revenue_events_task
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, CommissionPlanFactory, DealFactory, PartnerFactory

CLOSED = datetime.date(2017, 6, 1)


@pytest.fixture
def plan(scoped):
    # Tier A pays 10 % × 1.5, so a 1000.00 deal accrues 150.00.
    return CommissionPlanFactory(tenant=scoped, base_rate=Decimal("0.1000"))


def won_deal(tenant, *, amount="1000.00", account=None):
    return DealFactory(
        tenant=tenant,
        partner=PartnerFactory(tenant=tenant),
        account=account or AccountFactory(tenant=tenant),
        amount=Decimal(amount),
        currency="USD",
        close_date=CLOSED,
    )


def accrue(plan, deal) -> LedgerEntry:
    row = {
        "id": deal.pk,
        "partner_id": deal.partner_id,
        "amount": deal.amount,
        "currency": deal.currency,
        "won_fit_tier": "A",
        "won_fit_score": 90,
        "won_fit_version_id": None,
    }
    accruals_write(plan=plan, deals=[row])
    return LedgerEntry.objects.get(deal=deal, kind=LedgerEntry.Kind.ACCRUAL)


def refund(deal, amount, *, external_id=None):
    return revenue_event_record(
        tenant=deal.tenant,
        external_id=external_id or f"refund-{uuid.uuid4().hex[:12]}",
        kind="refund",
        occurred_on=CLOSED,
        deal_external_id=deal.external_id,
        amount=Decimal(amount),
    ).event


def age(*events, minutes=2):
    """Make events look recorded `minutes` ago, as if their task was lost."""
    RevenueEvent.all_tenants.filter(pk__in=[e.pk for e in events]).update(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes)
    )


def reversal_amounts(accrual) -> list[Decimal]:
    return list(
        LedgerEntry.objects.filter(reverses=accrual).order_by("pk").values_list("amount", flat=True)
    )


# ---------------------------------------------------------------- sweep


def test_sweep_processes_old_events_once(plan):
    accrual = accrue(plan, won_deal(plan.tenant))
    event = refund(accrual.deal, "250.00")
    age(event)

    assert revenue_events_sweep() == 1
    assert reversal_amounts(accrual) == [Decimal("-37.50")]
    event.refresh_from_db()
    assert event.processed_at is not None

    # A second run, and the lost task arriving late, write nothing more.
    assert revenue_events_sweep() == 0
    assert revenue_event_process(tenant_id=event.tenant_id, event_id=event.pk) == 0
    assert reversal_amounts(accrual) == [Decimal("-37.50")]


def test_sweep_leaves_young_events_to_their_task(plan):
    accrual = accrue(plan, won_deal(plan.tenant))
    event = refund(accrual.deal, "250.00")

    assert revenue_events_sweep() == 0
    event.refresh_from_db()
    assert event.processed_at is None
    assert reversal_amounts(accrual) == []


def test_sweep_covers_every_tenant_in_its_own_scope(plan, other_tenant):
    accrual = accrue(plan, won_deal(plan.tenant))
    mine = refund(accrual.deal, "100.00")
    with tenant_scope(other_tenant):
        other_plan = CommissionPlanFactory(tenant=other_tenant, base_rate=Decimal("0.1000"))
        other_accrual = accrue(other_plan, won_deal(other_tenant))
        theirs = refund(other_accrual.deal, "500.00")
    age(mine, theirs)

    assert sweep_revenue_events_task.apply().get() == 2

    assert reversal_amounts(accrual) == [Decimal("-15.00")]
    reversals = LedgerEntry.all_tenants.filter(reverses=other_accrual)
    assert [(r.tenant_id, r.amount) for r in reversals] == [(other_tenant.pk, Decimal("-75.00"))]


def test_sweep_goes_on_after_a_failing_tenant(plan, other_tenant, monkeypatch):
    accrual = accrue(plan, won_deal(plan.tenant))
    mine = refund(accrual.deal, "100.00")
    with tenant_scope(other_tenant):
        other_plan = CommissionPlanFactory(tenant=other_tenant, base_rate=Decimal("0.1000"))
        theirs = refund(accrue(other_plan, won_deal(other_tenant)).deal, "100.00")
    age(mine, theirs)
    from commissions import reversals

    original = reversals.revenue_event_process

    def failing(*, tenant_id, event_id):
        if tenant_id == plan.tenant_id:
            raise RuntimeError("database trouble in this test")
        return original(tenant_id=tenant_id, event_id=event_id)

    monkeypatch.setattr(reversals, "revenue_event_process", failing)

    assert revenue_events_sweep() == 1
    assert RevenueEvent.all_tenants.get(pk=theirs.pk).processed_at is not None
    assert RevenueEvent.all_tenants.get(pk=mine.pk).processed_at is None


def test_sweep_works_in_chunks(plan, monkeypatch):
    from commissions import reversals

    monkeypatch.setattr(reversals, "SWEEP_CHUNK_SIZE", 2)
    accrual = accrue(plan, won_deal(plan.tenant))
    events = [refund(accrual.deal, "100.00") for _ in range(5)]
    age(*events)

    assert revenue_events_sweep() == 5
    assert RevenueEvent.objects.filter(processed_at__isnull=True).count() == 0
    assert reversal_amounts(accrual) == [Decimal("-15.00")] * 5


def test_sweep_command(plan, other_tenant):
    accrual = accrue(plan, won_deal(plan.tenant))
    event = refund(accrual.deal, "100.00")
    age(event)
    output = io.StringIO()

    call_command("revenue_events_sweep", "--tenant", other_tenant.slug, stdout=output)
    assert "Processed 0 events." in output.getvalue()

    call_command("revenue_events_sweep", "--tenant", plan.tenant.slug, stdout=output)
    assert "Processed 1 events." in output.getvalue()
    assert reversal_amounts(accrual) == [Decimal("-15.00")]

    with pytest.raises(CommandError, match="No tenant has the slug 'nope'"):
        call_command("revenue_events_sweep", "--tenant", "nope")


# ---------------------------------------------------------------- late accruals


def test_refund_before_accrual_reversed_later(plan):
    deal = won_deal(plan.tenant)
    event = refund(deal, "250.00")
    assert revenue_event_process(tenant_id=event.tenant_id, event_id=event.pk) == 0

    accrual = accrue(plan, deal)

    reversals = list(LedgerEntry.objects.filter(reverses=accrual))
    assert [(r.amount, r.revenue_event_id) for r in reversals] == [(Decimal("-37.50"), event.pk)]
    # Writing the accrual again, or catching up again, adds nothing.
    accrue(plan, deal)
    assert reversals_catch_up(deal_ids=[deal.pk]) == 0
    assert reversal_amounts(accrual) == [Decimal("-37.50")]


def test_refunds_before_accrual_replay_in_processed_order(plan):
    # Thirds of 300.00 at 15 % each: 15.00, 15.00, then the rest, 15.00.
    deal = won_deal(plan.tenant, amount="300.00")
    events = [refund(deal, "100.00") for _ in range(3)]
    for event in reversed(events):
        revenue_event_process(tenant_id=event.tenant_id, event_id=event.pk)

    accrual = accrue(plan, deal)

    assert accrual.amount == Decimal("45.00")
    assert reversal_amounts(accrual) == [Decimal("-15.00")] * 3
    assert sum(reversal_amounts(accrual)) == -accrual.amount


def test_unprocessed_refund_is_not_caught_up(plan):
    deal = won_deal(plan.tenant)
    event = refund(deal, "250.00")

    accrual = accrue(plan, deal)
    assert reversal_amounts(accrual) == []

    # Its own task, or the sweep, writes it once.
    revenue_event_process(tenant_id=event.tenant_id, event_id=event.pk)
    assert reversal_amounts(accrual) == [Decimal("-37.50")]


def test_churn_before_accrual_reverses_deals_closed_before_it(plan):
    account = AccountFactory(tenant=plan.tenant)
    before = won_deal(plan.tenant, account=account)
    after = won_deal(plan.tenant, account=account)
    after.close_date = CLOSED + datetime.timedelta(days=200)
    after.save()
    plan.clawback_days = 180
    plan.save()
    event = revenue_event_record(
        tenant=plan.tenant,
        external_id="churn-1",
        kind="churn",
        occurred_on=CLOSED + datetime.timedelta(days=90),
        account_external_id=account.external_id,
    ).event
    revenue_event_process(tenant_id=event.tenant_id, event_id=event.pk)

    first = accrue(plan, before)
    second = accrue(plan, after)

    # Half the window was not served: half of 150.00.
    assert reversal_amounts(first) == [Decimal("-75.00")]
    assert reversal_amounts(second) == []
