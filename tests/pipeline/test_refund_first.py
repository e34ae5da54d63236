"""A refund that arrives before the pipeline has booked its deal's commission."""

import datetime
from decimal import Decimal

from commissions.models import CommissionPlan, LedgerEntry, RevenueEvent
from commissions.plans import commission_plan_activate
from commissions.reversals import revenue_event_process, revenue_event_record
from crm.models import Deal
from crm.pipeline import deals_process
from tests.factories import DealFactory

CLOSE = datetime.date(2017, 6, 1)


def _pending_won(tenant, account):
    return DealFactory(tenant=tenant, external_id="won-1", account=account,
                       amount=Decimal("1000.00"), close_date=CLOSE, stage=Deal.Stage.WON,
                       pipeline_status=Deal.PipelineStatus.PENDING)  # fmt: skip


def _refund(tenant, amount):
    event = revenue_event_record(
        tenant=tenant,
        external_id="refund-1",
        kind="refund",
        occurred_on=CLOSE,
        deal_external_id="won-1",
        amount=Decimal(amount),
    ).event
    revenue_event_process(tenant_id=tenant.pk, event_id=event.pk)
    return event


def test_refund_then_won_deal_processed(program):
    tenant = program["partner"].tenant
    deal = _pending_won(tenant, program["account"])
    event = _refund(tenant, "400.00")
    assert LedgerEntry.objects.count() == 0

    deals_process(tenant_id=tenant.pk)

    # Tier A: 10 % × 1.5 of 1000.00 is 150.00; 40 % of it is taken back.
    accrual = LedgerEntry.objects.get(deal=deal, kind=LedgerEntry.Kind.ACCRUAL)
    reversal = LedgerEntry.objects.get(kind=LedgerEntry.Kind.REVERSAL)
    assert accrual.amount == Decimal("150.00")
    assert (reversal.reverses_id, reversal.amount) == (accrual.pk, Decimal("-60.00"))
    assert reversal.revenue_event_id == event.pk
    assert RevenueEvent.objects.get().processed_at is not None

    # Running the pipeline again writes nothing more.
    Deal.objects.filter(pk=deal.pk).update(pipeline_status=Deal.PipelineStatus.PENDING)
    deals_process(tenant_id=tenant.pk)
    assert LedgerEntry.objects.count() == 2


def test_refund_while_deal_waits_for_plan(program, django_capture_on_commit_callbacks):
    tenant = program["partner"].tenant
    CommissionPlan.objects.update(is_active=False)
    deal = _pending_won(tenant, program["account"])
    deals_process(tenant_id=tenant.pk)
    _refund(tenant, "1000.00")

    with django_capture_on_commit_callbacks(execute=True):
        commission_plan_activate(tenant=tenant, name="Later", base_rate=Decimal("0.1"))

    # A full refund nets the late accrual to zero.
    entries = LedgerEntry.objects.filter(deal=deal).values_list("kind", "amount")
    assert sorted(entries) == [("accrual", Decimal("150.00")), ("reversal", Decimal("-150.00"))]
