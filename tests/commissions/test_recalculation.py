"""Recalculating booked accruals under a plan: preview, apply, retries and conflicts."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commissions.approval import entries_release_due
from commissions.models import CommissionPlan, CommissionRule, LedgerEntry, Recalculation
from commissions.recalculation import (
    recalculation_apply,
    recalculation_discard,
    recalculation_preview,
)
from commissions.reversals import revenue_event_process, revenue_event_record
from commissions.services import accruals_write
from partners.models import PartnerScore
from tenancy.errors import Conflict, DomainError
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, CommissionPlanFactory, DealFactory, PartnerFactory

CLOSED = datetime.date(2026, 3, 10)
FROM, TO = datetime.date(2026, 1, 1), datetime.date(2026, 6, 30)
S = LedgerEntry.Status


def book(plan, partner, *, amount="1000.00", tier="A", closed=CLOSED) -> LedgerEntry:
    deal = DealFactory(
        tenant=plan.tenant,
        partner=partner,
        account=AccountFactory(tenant=plan.tenant),
        amount=Decimal(amount),
        close_date=closed,
        won_fit_tier=tier,
        won_fit_score=90,
    )
    row = {
        "id": deal.pk,
        "partner_id": partner.pk,
        "amount": deal.amount,
        "currency": deal.currency,
        "won_fit_tier": tier,
        "won_fit_score": 90,
        "won_fit_version_id": None,
    }
    accruals_write(plan=plan, deals=[row])
    return LedgerEntry.objects.get(deal=deal, kind=LedgerEntry.Kind.ACCRUAL)


def net(accrual) -> Decimal:
    """Return the accrual plus its adjustments."""
    return (
        LedgerEntry.objects.filter(
            deal_id=accrual.deal_id,
            partner_id=accrual.partner_id,
            kind__in=[LedgerEntry.Kind.ACCRUAL, LedgerEntry.Kind.ADJUSTMENT],
        )
        .exclude(status=S.VOID)
        .aggregate(total=Sum("amount"))["total"]
    )


def adjustments() -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(kind=LedgerEntry.Kind.ADJUSTMENT).order_by("pk"))


def raise_rate(plan, rate="0.2000") -> CommissionPlan:
    """Change the plan in place, as editing the active plan does."""
    CommissionPlan.objects.filter(pk=plan.pk).update(base_rate=Decimal(rate))
    plan.refresh_from_db()
    return plan


@pytest.fixture
def plan(scoped):
    return CommissionPlanFactory(tenant=scoped, name="Active", base_rate=Decimal("0.1000"))


@pytest.fixture
def partner(scoped):
    return PartnerFactory(tenant=scoped, name="Initech Partners")


def preview(plan, **values):
    return recalculation_preview(
        tenant=plan.tenant, plan=plan, close_from=FROM, close_to=TO, **values
    )


def apply(recalculation):
    return recalculation_apply(tenant=recalculation.tenant, recalculation_id=recalculation.pk)


def test_preview_lists_changed_accruals(plan, partner):
    first = book(plan, partner, amount="1000.00", tier="A")
    second = book(plan, partner, amount="333.33", tier="B")
    book(plan, partner, tier="D")  # pays 0 under both rates
    book(plan, partner, closed=datetime.date(2025, 12, 31))  # before the range
    raise_rate(plan)

    recalculation = preview(plan)

    lines = {line["accrual_id"]: line for line in recalculation.lines}
    assert set(lines) == {first.pk, second.pk}
    assert lines[first.pk]["old_amount"] == "150.00"
    assert lines[first.pk]["new_amount"] == "300.00"
    assert lines[first.pk]["delta"] == "150.00"
    # 333.33 × 20 % × 1.00 = 66.666, rounded half up, minus the booked 33.33.
    assert lines[second.pk]["delta"] == "33.34"
    assert lines[second.pk]["rate_source"] == "default"
    assert recalculation.totals == [
        {
            "partner_id": partner.pk,
            "partner_name": "Initech Partners",
            "currency": "USD",
            "accruals": 2,
            "old": "183.33",
            "new": "366.67",
            "delta": "183.34",
        }
    ]
    assert recalculation.status == Recalculation.Status.PREVIEWED
    assert adjustments() == []


def test_apply_makes_net_equal_new_price(plan, partner):
    accruals = [book(plan, partner, amount=amount) for amount in ("1000.00", "123.45")]
    raise_rate(plan, "0.1500")
    recalculation = preview(plan)

    applied = apply(recalculation)

    assert applied.status == Recalculation.Status.APPLIED
    assert [net(accrual) for accrual in accruals] == [Decimal("225.00"), Decimal("27.78")]
    for entry in adjustments():
        assert entry.plan_id == plan.pk
        assert entry.reverses_id is None
        assert entry.status == S.PENDING
        assert entry.rate == Decimal("0.1500")
        assert entry.memo.startswith(f"Recalculation #{recalculation.pk} under plan Active: was")
        assert entry.idempotency_key.startswith(f"recalculation:{recalculation.pk}:entry:")
    # Accruals are never edited.
    assert [LedgerEntry.objects.get(pk=a.pk).amount for a in accruals] == [
        a.amount for a in accruals
    ]


def test_second_recalculation_adjusts_only_the_rest(plan, partner):
    accrual = book(plan, partner)
    raise_rate(plan, "0.1500")
    apply(preview(plan))
    raise_rate(plan, "0.1200")

    second = preview(plan)
    apply(second)

    assert second.lines[0]["old_amount"] == "225.00"
    assert second.lines[0]["delta"] == "-45.00"
    assert net(accrual) == Decimal("180.00")


def test_retried_apply_writes_nothing(plan, partner):
    book(plan, partner)
    raise_rate(plan)
    recalculation = preview(plan)

    apply(recalculation)
    again = apply(recalculation)

    assert again.status == Recalculation.Status.APPLIED
    assert len(adjustments()) == 1


def test_paid_accrual_gets_approved_adjustment(plan, partner):
    accrual = book(plan, partner)
    LedgerEntry.objects.filter(pk=accrual.pk).update(status=S.PAID)
    raise_rate(plan)

    apply(preview(plan))

    [adjustment] = adjustments()
    assert adjustment.status == S.APPROVED
    assert adjustment.amount == Decimal("150.00")
    accrual.refresh_from_db()
    assert accrual.status == S.PAID
    assert accrual.amount == Decimal("150.00")


def test_pending_adjustment_is_released_with_its_accrual(plan, partner):
    accrual = book(plan, partner)
    other = book(plan, partner, closed=datetime.date(2026, 3, 11))
    raise_rate(plan)
    apply(preview(plan))
    LedgerEntry.objects.filter(pk=accrual.pk).update(status=S.APPROVED)

    released = entries_release_due(tenant=plan.tenant, today=CLOSED)

    statuses = {entry.idempotency_key.rsplit(":", 1)[1]: entry.status for entry in adjustments()}
    assert released == 1
    assert statuses == {str(accrual.pk): S.APPROVED, str(other.pk): S.PENDING}


def test_void_accrual_is_left_out(plan, partner):
    accrual = book(plan, partner)
    LedgerEntry.objects.filter(pk=accrual.pk).update(status=S.VOID)
    raise_rate(plan)

    assert preview(plan).lines == []


def test_apply_after_refund_is_rejected(plan, partner):
    accrual = book(plan, partner)
    raise_rate(plan)
    recalculation = preview(plan)
    event = revenue_event_record(
        tenant=plan.tenant,
        external_id="refund-1",
        kind="refund",
        occurred_on=CLOSED,
        deal_external_id=accrual.deal.external_id,
        amount=Decimal("100.00"),
    ).event
    revenue_event_process(tenant_id=plan.tenant_id, event_id=event.pk)

    with pytest.raises(Conflict) as raised:
        apply(recalculation)

    assert "Preview the recalculation again" in raised.value.fix
    assert adjustments() == []
    recalculation.refresh_from_db()
    assert recalculation.status == Recalculation.Status.PREVIEWED


def test_apply_after_adjustment_is_rejected(plan, partner):
    accrual = book(plan, partner)
    raise_rate(plan)
    recalculation = preview(plan)
    LedgerEntry.objects.create(
        tenant=plan.tenant,
        partner=partner,
        deal=accrual.deal,
        kind=LedgerEntry.Kind.ADJUSTMENT,
        idempotency_key="manual:1",
        base_amount=Decimal(0),
        rate=Decimal(0),
        multiplier=Decimal(1),
        amount=Decimal("10.00"),
        currency="USD",
    )

    with pytest.raises(Conflict, match="changed since it was previewed"):
        apply(recalculation)

    assert len(adjustments()) == 1


def test_expired_preview_is_rejected(plan, partner):
    book(plan, partner)
    raise_rate(plan)
    recalculation = preview(plan)
    Recalculation.objects.filter(pk=recalculation.pk).update(
        expires_at=recalculation.created_at - datetime.timedelta(seconds=1)
    )

    with pytest.raises(Conflict, match="expired"):
        apply(recalculation)

    recalculation.refresh_from_db()
    assert recalculation.status == Recalculation.Status.EXPIRED
    assert adjustments() == []


def test_discarded_preview_is_not_applied(plan, partner):
    book(plan, partner)
    raise_rate(plan)
    recalculation = preview(plan)

    recalculation_discard(tenant=plan.tenant, recalculation_id=recalculation.pk)

    with pytest.raises(Conflict, match="discarded"):
        apply(recalculation)
    assert adjustments() == []


def test_applied_cannot_be_discarded(plan, partner):
    book(plan, partner)
    raise_rate(plan)
    recalculation = apply(preview(plan))

    with pytest.raises(Conflict, match="applied"):
        recalculation_discard(tenant=plan.tenant, recalculation_id=recalculation.pk)


def test_draft_plan_is_rejected(scoped):
    draft = CommissionPlanFactory(
        tenant=scoped, name="Draft", base_rate=Decimal("0.3"), is_draft=True, is_active=False
    )

    with pytest.raises(Conflict) as raised:
        preview(draft)

    assert raised.value.field == "plan_id"


def test_reversed_range_is_rejected(plan):
    with pytest.raises(DomainError) as raised:
        recalculation_preview(tenant=plan.tenant, plan=plan, close_from=TO, close_to=FROM)

    assert raised.value.field == "close_to"


def test_range_is_clipped_to_the_plan(plan, partner):
    CommissionPlan.objects.filter(pk=plan.pk).update(effective_from=datetime.date(2026, 3, 1))
    plan.refresh_from_db()
    book(plan, partner, closed=datetime.date(2026, 2, 1))
    inside = book(plan, partner)
    raise_rate(plan)

    recalculation = preview(plan)

    assert recalculation.close_from == datetime.date(2026, 3, 1)
    assert [line["accrual_id"] for line in recalculation.lines] == [inside.pk]


def test_cap_counts_accruals_outside_the_range(plan, partner):
    CommissionPlan.objects.filter(pk=plan.pk).update(
        cap_per_partner=Decimal("400.00"), cap_period="year"
    )
    plan.refresh_from_db()
    book(plan, partner, closed=datetime.date(2026, 9, 1))  # 150.00, outside the range
    inside = book(plan, partner)  # 150.00
    raise_rate(plan)

    recalculation = preview(plan)

    # 300.00 under the new rate, capped at 400.00 − 150.00 booked outside the range.
    assert recalculation.lines[0]["accrual_id"] == inside.pk
    assert recalculation.lines[0]["new_amount"] == "250.00"


@pytest.mark.django_db(transaction=True)
def test_concurrent_applies_write_once(tenant):
    with tenant_scope(tenant):
        plan = CommissionPlanFactory(tenant=tenant, base_rate=Decimal("0.1000"))
        partner = PartnerFactory(tenant=tenant)
        for amount in ("1000.00", "2000.00", "3000.00"):
            book(plan, partner, amount=amount)
        raise_rate(plan)
        recalculation = preview(plan)
    results, errors = [], []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            with tenant_scope(tenant):
                results.append(apply(recalculation).status)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert results == [Recalculation.Status.APPLIED] * 2
    with tenant_scope(tenant):
        assert len(adjustments()) == 3
        assert sum(entry.amount for entry in adjustments()) == Decimal("900.00")


# ---------------------------------------------------------------- property

money = st.integers(min_value=1, max_value=10**9).map(lambda cents: Decimal(cents) / 100)
rate = st.integers(min_value=0, max_value=10_000).map(lambda bp: Decimal(bp) / 10_000)
multiplier = st.integers(min_value=0, max_value=1000).map(lambda m: Decimal(m) / 100)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    old_rate=rate,
    new_rate=rate,
    new_multiplier_a=multiplier,
    new_flat=st.one_of(st.none(), money),
    segment_rate=st.one_of(st.none(), rate),
    cap=st.one_of(st.none(), money),
    deals=st.lists(
        st.tuples(money, st.sampled_from(["A", "B", "C", "D"]), st.integers(0, 170)),
        min_size=1,
        max_size=8,
    ),
)
def test_adjustments_sum_to_new_minus_old(
    scoped, old_rate, new_rate, new_multiplier_a, new_flat, segment_rate, cap, deals
):
    with transaction.atomic():
        plan = CommissionPlanFactory(tenant=scoped, name="Property", base_rate=old_rate)
        partners = [PartnerFactory(tenant=scoped) for _ in range(2)]
        PartnerScore.objects.create(
            tenant=scoped,
            partner=partners[0],
            segment="strategic",
            segment_basis=PartnerScore.SegmentBasis.OVERLAP_ONLY,
        )
        accruals = [
            book(
                plan,
                partners[index % 2],
                amount=str(amount),
                tier=tier,
                closed=FROM + datetime.timedelta(days=day),
            )
            for index, (amount, tier, day) in enumerate(deals)
        ]
        CommissionPlan.objects.filter(pk=plan.pk).update(
            base_rate=new_rate,
            multiplier_a=new_multiplier_a,
            cap_per_partner=cap,
            payout_type="percentage" if new_flat is None else "flat",
            flat_amount=new_flat,
        )
        if segment_rate is not None:
            CommissionRule.objects.create(
                tenant=scoped,
                plan=plan,
                scope="segment",
                value="strategic",
                payout_type="percentage",
                rate=segment_rate,
            )
        plan.refresh_from_db()
        old_total = sum(accrual.amount for accrual in accruals)

        recalculation = apply(preview(plan))

        written = sum((entry.amount for entry in adjustments()), Decimal(0))
        new_total = sum((Decimal(line["new_amount"]) for line in recalculation.lines), Decimal(0))
        unchanged = {line["accrual_id"] for line in recalculation.lines}
        new_total += sum(a.amount for a in accruals if a.pk not in unchanged)
        assert written == new_total - old_total
        assert sum(net(accrual) for accrual in accruals) == new_total
        # A full refund afterwards takes back the accrual with its adjustment, exactly.
        for number, accrual in enumerate(accruals):
            refund(accrual, str(accrual.base_amount), f"refund-full-{number}")
            entries = LedgerEntry.objects.filter(deal=accrual.deal).exclude(status=S.VOID)
            left = entries.aggregate(total=Sum("amount"))["total"]
            assert left == 0
        transaction.set_rollback(True)


# ---------------------------------------------------------------- later reversals


def refund(accrual, amount, external_id="refund-after"):
    event = revenue_event_record(
        tenant=accrual.tenant,
        external_id=external_id,
        kind="refund",
        occurred_on=CLOSED,
        deal_external_id=accrual.deal.external_id,
        amount=Decimal(amount),
    ).event
    revenue_event_process(tenant_id=accrual.tenant_id, event_id=event.pk)
    return list(LedgerEntry.objects.filter(revenue_event=event))


def test_refund_after_raise_reverses_adjustment_share(plan, partner):
    accrual = book(plan, partner)  # 150.00
    raise_rate(plan)
    apply(preview(plan))  # + 150.00

    [reversal] = refund(accrual, "250.00")

    # A quarter of 300.00, not of the accrual's 150.00.
    assert reversal.amount == Decimal("-75.00")
    assert reversal.reverses_id == accrual.pk
    assert "recalculation adjustments of 150.00" in reversal.memo


def test_full_refund_after_raise_nets_zero(plan, partner):
    accrual = book(plan, partner)
    raise_rate(plan, "0.1234")
    apply(preview(plan))

    refund(accrual, "333.33", "refund-a")
    refund(accrual, "666.67", "refund-b")

    entries = LedgerEntry.objects.filter(deal=accrual.deal).exclude(status=S.VOID)
    assert entries.aggregate(total=Sum("amount"))["total"] == 0


def test_churn_after_lowering_reverses_new_amount(plan, partner):
    accrual = book(plan, partner)  # 150.00
    raise_rate(plan, "0.0500")
    apply(preview(plan))  # − 75.00
    event = revenue_event_record(
        tenant=plan.tenant,
        external_id="churn-1",
        kind="churn",
        occurred_on=CLOSED + datetime.timedelta(days=45),
        account_external_id=accrual.deal.account.external_id,
    ).event

    revenue_event_process(tenant_id=plan.tenant_id, event_id=event.pk)

    [reversal] = LedgerEntry.objects.filter(revenue_event=event)
    # Half of the 90 clawback days not served: half of 75.00.
    assert reversal.amount == Decimal("-37.50")


def test_manual_adjustment_is_not_reversed(plan, partner):
    accrual = book(plan, partner)
    LedgerEntry.objects.create(
        tenant=plan.tenant,
        partner=partner,
        deal=accrual.deal,
        kind=LedgerEntry.Kind.ADJUSTMENT,
        idempotency_key="manual:bonus",
        base_amount=Decimal(0),
        rate=Decimal(0),
        multiplier=Decimal(1),
        amount=Decimal("10.00"),
        currency="USD",
    )

    [reversal] = refund(accrual, "250.00")

    assert reversal.amount == Decimal("-37.50")
