"""One bad deal, a missing plan or a failing tenant never stops the rest of the pipeline."""

import datetime
from decimal import Decimal

from commissions.models import CommissionPlan, LedgerEntry
from commissions.plans import commission_plan_activate
from crm.models import Deal
from crm.pipeline import deals_process
from crm.tasks import sweep_pending_deals_task
from tenancy.scope import tenant_scope
from tests.factories import DealFactory
from tests.pipeline.conftest import make_active_version

CLOSE = datetime.date(2017, 6, 1)


def _pending(tenant, external_id, account, amount="1000.00"):
    return DealFactory(tenant=tenant, external_id=external_id, account=account,
                       amount=Decimal(amount), close_date=CLOSE,
                       pipeline_status=Deal.PipelineStatus.PENDING)  # fmt: skip


def test_bad_deal_fails_alone(program, monkeypatch):
    tenant = program["partner"].tenant
    good = _pending(tenant, "good", program["account"])
    bad = _pending(tenant, "bad", program["account"])
    from commissions import pricing

    original = pricing.deal_price

    def exploding(plan, rules, facts, **kwargs):
        if facts.amount == Decimal("666.00"):
            raise ArithmeticError("amount rejected by test")
        return original(plan, rules, facts, **kwargs)

    Deal.objects.filter(pk=bad.pk).update(amount=Decimal("666.00"))
    monkeypatch.setattr(pricing, "deal_price", exploding)

    processed = deals_process(tenant_id=tenant.pk)

    good.refresh_from_db()
    bad.refresh_from_db()
    assert processed == 1
    assert good.pipeline_status == Deal.PipelineStatus.PROCESSED
    assert bad.pipeline_status == Deal.PipelineStatus.FAILED
    assert bad.pipeline_error == "ArithmeticError: amount rejected by test"
    assert list(LedgerEntry.objects.values_list("deal_id", flat=True)) == [good.pk]


def test_largest_commission_fits_ledger(program):
    tenant = program["partner"].tenant
    commission_plan_activate(tenant=tenant, name="Max", base_rate=Decimal("1"),
                             multiplier_a=Decimal("10"),
                             effective_from=datetime.date(2000, 1, 1))  # fmt: skip
    _pending(tenant, "huge", program["account"], amount="999999999999.99")

    deals_process(tenant_id=tenant.pk)

    assert LedgerEntry.objects.get().amount == Decimal("9999999999999.9000")


def test_partner_deal_waits_for_plan(program, django_capture_on_commit_callbacks):
    tenant = program["partner"].tenant
    CommissionPlan.objects.update(is_active=False)
    deal = _pending(tenant, "wait", program["account"])

    processed = deals_process(tenant_id=tenant.pk)

    deal.refresh_from_db()
    assert processed == 0
    assert deal.pipeline_status == Deal.PipelineStatus.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        commission_plan_activate(tenant=tenant, name="Later", base_rate=Decimal("0.1"))
    deal.refresh_from_db()
    assert deal.pipeline_status == Deal.PipelineStatus.PROCESSED
    assert LedgerEntry.objects.get().amount == Decimal("150.00")


def test_sweep_continues_after_failing_tenant(program, other_tenant, monkeypatch, settings):
    settings.TRACK360_SWEEP_GRACE_SECONDS = 0
    tenant = program["partner"].tenant
    with tenant_scope(other_tenant):
        make_active_version(other_tenant)
        from tests.factories import AccountFactory

        other_account = AccountFactory(tenant=other_tenant)
        other_deal = _pending(other_tenant, "other", other_account)
    _pending(tenant, "mine", program["account"])
    from crm import tasks

    original = tasks.deals_process

    def failing_for_first(*, tenant_id, deal_ids=None):
        if tenant_id == min(tenant.pk, other_tenant.pk):
            raise RuntimeError("tenant broken by test")
        return original(tenant_id=tenant_id, deal_ids=deal_ids)

    monkeypatch.setattr(tasks, "deals_process", failing_for_first)
    Deal.all_tenants.update(updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))

    processed = sweep_pending_deals_task.apply().get()

    assert processed == 1
    later = other_deal if other_tenant.pk > tenant.pk else Deal.objects.get(external_id="mine")
    later.refresh_from_db()
    assert later.pipeline_status == Deal.PipelineStatus.PROCESSED
