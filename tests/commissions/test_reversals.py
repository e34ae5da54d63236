"""Refund and churn events: recording, the reversals they write, and their arithmetic."""

import datetime
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from commissions.approval import entries_release_due
from commissions.models import LedgerEntry, RevenueEvent
from commissions.reversals import (
    churn_reversal,
    minor_unit,
    refund_reversal,
    revenue_event_process,
    revenue_event_record,
)
from commissions.services import accruals_write
from partners.models import PartnerScore
from tenancy.errors import Conflict, DomainError, NotFound
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, CommissionPlanFactory, DealFactory, PartnerFactory

CLOSED = datetime.date(2017, 6, 1)


def accrue(plan, *, amount="1000.00", currency="USD", tier="A", account=None) -> LedgerEntry:
    deal = DealFactory(
        tenant=plan.tenant,
        partner=PartnerFactory(tenant=plan.tenant),
        account=account or AccountFactory(tenant=plan.tenant),
        amount=Decimal(amount),
        currency=currency,
        close_date=CLOSED,
    )
    row = {
        "id": deal.pk,
        "partner_id": deal.partner_id,
        "amount": deal.amount,
        "currency": deal.currency,
        "won_fit_tier": tier,
        "won_fit_score": 90,
        "won_fit_version_id": None,
    }
    accruals_write(plan=plan, deals=[row])
    return LedgerEntry.objects.get(deal=deal, kind=LedgerEntry.Kind.ACCRUAL)


def refund(accrual, amount, *, external_id=None, on=CLOSED):
    return revenue_event_record(
        tenant=accrual.tenant,
        external_id=external_id or f"refund-{uuid.uuid4().hex[:12]}",
        kind="refund",
        occurred_on=on,
        deal_external_id=accrual.deal.external_id,
        amount=Decimal(amount),
    ).event


def churn(account, *, days_after_close, external_id=None):
    return revenue_event_record(
        tenant=account.tenant,
        external_id=external_id or f"churn-{uuid.uuid4().hex[:12]}",
        kind="churn",
        occurred_on=CLOSED + datetime.timedelta(days=days_after_close),
        account_external_id=account.external_id,
    ).event


def process(event) -> int:
    return revenue_event_process(tenant_id=event.tenant_id, event_id=event.pk)


def reversals_of(accrual) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(reverses=accrual).order_by("pk"))


def net(accrual) -> Decimal:
    return accrual.amount + sum((r.amount for r in reversals_of(accrual)), Decimal(0))


@pytest.fixture
def plan(scoped):
    # Tier A pays 10 % × 1.5, so a 1000.00 deal accrues 150.00.
    return CommissionPlanFactory(tenant=scoped, base_rate=Decimal("0.1000"))


# ---------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    ("accrued", "remaining", "deal", "before", "refund_amount", "expected"),
    [
        pytest.param("150.00", "150.00", "1000.00", "0", "250.00", "37.50", id="quarter"),
        pytest.param("100.00", "100.00", "300.00", "0", "100.00", "33.33", id="third-rounds"),
        pytest.param("100.00", "66.67", "300.00", "100.00", "100.00", "33.33", id="second-third"),
        pytest.param(
            "100.00", "33.34", "300.00", "200.00", "100.00", "33.34", id="last-takes-rest"
        ),
        pytest.param("0.05", "0.05", "10.00", "0", "1.00", "0.01", id="half-up-0.005"),
        pytest.param("150.00", "10.00", "1000.00", "0", "500.00", "10.00", id="capped-at-left"),
        pytest.param("150.00", "0", "1000.00", "0", "500.00", "0", id="nothing-left"),
    ],
)
def test_refund_reversal(accrued, remaining, deal, before, refund_amount, expected):
    amount = refund_reversal(
        accrued=Decimal(accrued),
        remaining=Decimal(remaining),
        deal_amount=Decimal(deal),
        refunded_before=Decimal(before),
        refund=Decimal(refund_amount),
        currency="USD",
    )

    assert amount == Decimal(expected)


@pytest.mark.parametrize(
    ("remaining", "window", "served", "expected"),
    [
        pytest.param("150.00", 90, 30, "100.00", id="two-thirds-unearned"),
        pytest.param("100.00", 90, 89, "1.11", id="one-day-left"),
        pytest.param("100.00", 90, 90, "0", id="window-over"),
        pytest.param("100.00", 90, 400, "0", id="long-after"),
        pytest.param("100.00", 0, 0, "0", id="no-clawback"),
        pytest.param("100.00", 90, -5, "100.00", id="churn-before-close-takes-all"),
        pytest.param("0.01", 90, 45, "0.01", id="half-cent-rounds-up"),
    ],
)
def test_churn_reversal(remaining, window, served, expected):
    amount = churn_reversal(
        remaining=Decimal(remaining), clawback_days=window, days_served=served, currency="USD"
    )

    assert amount == Decimal(expected)


# ---------------------------------------------------------------- refunds


def test_partial_refund_reverses_pro_rata_with_memo(plan):
    accrual = accrue(plan)
    event = refund(accrual, "250.00", external_id="rf-1")

    assert process(event) == 1

    (reversal,) = reversals_of(accrual)
    assert accrual.amount == Decimal("150.00")
    assert reversal.amount == Decimal("-37.50")
    assert reversal.kind == LedgerEntry.Kind.REVERSAL
    assert reversal.status == LedgerEntry.Status.PENDING
    assert reversal.revenue_event == event
    assert (reversal.rate, reversal.multiplier) == (accrual.rate, accrual.multiplier)
    assert "rf-1" in reversal.memo
    assert "25.00%" in reversal.memo
    assert f"accrual #{accrual.pk}" in reversal.memo


def test_thirds_net_to_exactly_zero(plan):
    accrual = accrue(plan, amount="300.00", tier="B")  # 10 % × 1.00 = 30.00

    amounts = []
    for _ in range(3):
        event = refund(accrual, "100.00")
        process(event)
        amounts.append(reversals_of(accrual)[-1].amount)

    assert amounts == [Decimal("-10.00")] * 3
    assert net(accrual) == 0


def test_rounded_thirds_take_the_rest_last(plan):
    accrual = accrue(plan, amount="100.00", tier="B")  # 10.00
    for amount in ("33.33", "33.33", "33.34"):
        process(refund(accrual, amount))

    assert [r.amount for r in reversals_of(accrual)] == [
        Decimal("-3.33"),
        Decimal("-3.33"),
        Decimal("-3.34"),
    ]
    assert net(accrual) == 0


def test_refund_uses_the_frozen_multipliers(plan):
    accrual = accrue(plan)
    # The partner moves segment and the plan changes after the accrual was booked.
    PartnerScore.objects.create(
        tenant=plan.tenant,
        partner=accrual.partner,
        segment="strategic",
        segment_basis=PartnerScore.SegmentBasis.OVERLAP_ONLY,
    )
    plan.multiplier_a = Decimal("3.00")
    plan.segment_multiplier_strategic = Decimal("2.00")
    plan.save()

    process(refund(accrual, "500.00"))

    assert reversals_of(accrual)[0].amount == Decimal("-75.00")
    assert reversals_of(accrual)[0].multiplier == Decimal("1.50")


def test_paid_accrual_gets_an_approved_negative_reversal(plan):
    accrual = accrue(plan)
    LedgerEntry.objects.filter(pk=accrual.pk).update(status=LedgerEntry.Status.PAID)

    process(refund(accrual, "1000.00"))

    (reversal,) = reversals_of(accrual)
    assert reversal.status == LedgerEntry.Status.APPROVED
    assert reversal.amount == Decimal("-150.00")


def test_pending_reversal_released_with_its_accrual(plan, scoped):
    accrual = accrue(plan)
    process(refund(accrual, "500.00"))
    (reversal,) = reversals_of(accrual)
    assert reversal.status == LedgerEntry.Status.PENDING
    LedgerEntry.objects.filter(pk=accrual.pk).update(status=LedgerEntry.Status.APPROVED)

    entries_release_due(tenant=scoped)

    reversal.refresh_from_db()
    assert reversal.status == LedgerEntry.Status.APPROVED


def test_void_accrual_gets_no_reversal(plan):
    accrual = accrue(plan)
    LedgerEntry.objects.filter(pk=accrual.pk).update(status=LedgerEntry.Status.VOID)
    event = refund(accrual, "1000.00")

    assert process(event) == 0
    assert reversals_of(accrual) == []
    event.refresh_from_db()
    assert event.processed_at is not None


def test_retry_writes_nothing_more(plan):
    accrual = accrue(plan)
    event = refund(accrual, "100.00", external_id="rf-retry")

    assert process(event) == 1
    assert process(event) == 0
    again = refund(accrual, "100.00", external_id="rf-retry")

    assert again.pk == event.pk
    assert process(again) == 0
    assert len(reversals_of(accrual)) == 1


def test_zero_decimal_currency(plan):
    accrual = accrue(plan, amount="1001", currency="JPY", tier="C")  # 10 % × 0.5 → 50

    process(refund(accrual, "333"))

    assert reversals_of(accrual)[0].amount == Decimal("-17")  # 16.65 rounds half up


# ---------------------------------------------------------------- recording


def test_same_values_are_a_no_op(plan):
    accrual = accrue(plan)
    first = revenue_event_record(
        tenant=plan.tenant, external_id="e1", kind="refund", occurred_on=CLOSED,
        deal_external_id=accrual.deal.external_id, amount=Decimal("10.00"),
    )  # fmt: skip
    second = revenue_event_record(
        tenant=plan.tenant, external_id="e1", kind="refund", occurred_on=CLOSED,
        deal_external_id=accrual.deal.external_id, amount=Decimal("10.00"), currency="USD",
    )  # fmt: skip

    assert (first.created, second.created) == (True, False)
    assert RevenueEvent.objects.count() == 1


def test_changed_value_updates_an_unprocessed_event(plan):
    accrual = accrue(plan)
    refund(accrual, "10.00", external_id="e1")

    event = refund(accrual, "20.00", external_id="e1")

    assert event.amount == Decimal("20.00")
    assert RevenueEvent.objects.get().amount == Decimal("20.00")


def test_processed_event_change_conflicts(plan):
    accrual = accrue(plan)
    process(refund(accrual, "10.00", external_id="e1"))

    with pytest.raises(Conflict) as raised:
        refund(accrual, "20.00", external_id="e1")

    assert raised.value.field == "amount"
    assert RevenueEvent.objects.get().amount == Decimal("10.00")


def test_refunds_above_the_deal_amount_are_rejected(plan):
    accrual = accrue(plan)
    refund(accrual, "600.00")

    with pytest.raises(DomainError) as raised:
        refund(accrual, "500.00", external_id="too-much")

    assert raised.value.field == "amount"
    assert "400.00" in raised.value.fix
    assert not RevenueEvent.objects.filter(external_id="too-much").exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        pytest.param({"amount": Decimal("0.00")}, "amount", id="zero"),
        pytest.param({"amount": Decimal("1000.01")}, "amount", id="above-deal"),
        pytest.param({"currency": "EUR"}, "currency", id="other-currency"),
        pytest.param({"deal_external_id": None}, "deal_external_id", id="no-deal"),
    ],
)
def test_invalid_refund_names_the_field(plan, values, field):
    accrual = accrue(plan)
    arguments = {
        "tenant": plan.tenant,
        "external_id": "bad",
        "kind": "refund",
        "occurred_on": CLOSED,
        "deal_external_id": accrual.deal.external_id,
        "amount": Decimal("10.00"),
        **values,
    }

    with pytest.raises(DomainError) as raised:
        revenue_event_record(**arguments)

    assert raised.value.field == field
    assert not RevenueEvent.objects.exists()


def test_open_deal_cannot_be_refunded(plan):
    deal = DealFactory(tenant=plan.tenant, account=AccountFactory(tenant=plan.tenant), stage="open")

    with pytest.raises(DomainError, match="not won"):
        revenue_event_record(
            tenant=plan.tenant, external_id="x", kind="refund", occurred_on=CLOSED,
            deal_external_id=deal.external_id, amount=Decimal("1.00"),
        )  # fmt: skip


def test_other_tenants_deal_is_not_found(plan, other_tenant):
    with tenant_scope(other_tenant):
        theirs = DealFactory(tenant=other_tenant, account=AccountFactory(tenant=other_tenant))

    with pytest.raises(NotFound):
        revenue_event_record(
            tenant=plan.tenant, external_id="x", kind="refund", occurred_on=CLOSED,
            deal_external_id=theirs.external_id, amount=Decimal("1.00"),
        )  # fmt: skip


# ---------------------------------------------------------------- churn


def test_churn_in_window_reverses_unearned(plan):
    account = AccountFactory(tenant=plan.tenant)
    first = accrue(plan, account=account)
    second = accrue(plan, account=account, amount="90.00", tier="B")  # 9.00

    event = churn(account, days_after_close=30)

    assert process(event) == 2
    assert reversals_of(first)[0].amount == Decimal("-100.00")
    assert reversals_of(second)[0].amount == Decimal("-6.00")
    assert "60 of 90 clawback days" in reversals_of(first)[0].memo


@pytest.mark.parametrize(
    ("clawback_days", "days_after_close"),
    [pytest.param(90, 90, id="window-over"), pytest.param(0, 1, id="clawback-off")],
)
def test_churn_after_window_reverses_nothing(plan, clawback_days, days_after_close):
    plan.clawback_days = clawback_days
    plan.save()
    account = AccountFactory(tenant=plan.tenant)
    accrual = accrue(plan, account=account)

    assert process(churn(account, days_after_close=days_after_close)) == 0
    assert reversals_of(accrual) == []


def test_churn_after_refund_takes_remainder(plan):
    account = AccountFactory(tenant=plan.tenant)
    accrual = accrue(plan, account=account)
    process(refund(accrual, "500.00"))  # 75.00 left

    process(churn(account, days_after_close=45))

    assert reversals_of(accrual)[-1].amount == Decimal("-37.50")
    # A second churn event takes nothing more.
    assert process(churn(account, days_after_close=46)) == 0
    # Refunding the rest still nets to zero, and no further.
    process(refund(accrual, "500.00"))
    assert net(accrual) == 0


def test_churn_with_an_amount_is_rejected(plan):
    account = AccountFactory(tenant=plan.tenant)

    with pytest.raises(DomainError) as raised:
        revenue_event_record(
            tenant=plan.tenant, external_id="c", kind="churn", occurred_on=CLOSED,
            account_external_id=account.external_id, amount=Decimal("1.00"),
        )  # fmt: skip

    assert raised.value.field == "amount"


# ---------------------------------------------------------------- the append-only ledger


def test_reversal_link_cannot_be_edited(plan):
    accrual = accrue(plan)
    process(refund(accrual, "100.00"))
    (reversal,) = reversals_of(accrual)

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=reversal.pk).update(reverses=None)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=reversal.pk).update(amount=Decimal("-1.00"))


# ---------------------------------------------------------------- properties

step = st.tuples(
    st.integers(min_value=1, max_value=10_000),  # share of what is left, in 1/10 000
    st.integers(min_value=1, max_value=3),  # times the task runs
    st.booleans(),  # the client sends the event twice
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    deal_minor=st.integers(min_value=1, max_value=10**8),
    currency=st.sampled_from(["USD", "JPY"]),
    tier=st.sampled_from(["A", "B", "C"]),
    steps=st.lists(step, min_size=1, max_size=6),
    refund_all=st.booleans(),
    churn_at=st.one_of(st.none(), st.tuples(st.integers(0, 6), st.integers(-10, 120))),
)
# Three rounded thirds of 10.00 would leave a cent unless the last refund takes the rest.
@example(
    deal_minor=10_000,
    currency="USD",
    tier="B",
    steps=[(3333, 1, False), (5000, 2, True)],
    refund_all=True,
    churn_at=None,
)
def test_reversals_never_overshoot(plan, deal_minor, currency, tier, steps, refund_all, churn_at):
    unit = minor_unit(currency)
    deal_amount = Decimal(deal_minor) * unit
    account = AccountFactory(tenant=plan.tenant)
    accrual = accrue(plan, amount=str(deal_amount), currency=currency, tier=tier, account=account)
    refunded = Decimal(0)
    events = []
    plan_steps = [(share, runs, twice) for share, runs, twice in steps]
    if refund_all:
        plan_steps.append((10_000, 1, False))
    for position, (share, runs, twice) in enumerate(plan_steps):
        if churn_at is not None and churn_at[0] == position:
            events.append(churn(account, days_after_close=churn_at[1]))
            for _ in range(runs):
                process(events[-1])
        left = deal_amount - refunded
        amount = (left * share / 10_000).quantize(unit)
        if amount <= 0:
            continue
        external_id = f"p-{uuid.uuid4().hex[:12]}"
        event = refund(accrual, amount, external_id=external_id)
        for _ in range(runs):
            process(event)
        if twice:
            assert refund(accrual, amount, external_id=external_id).pk == event.pk
            assert process(event) == 0
        refunded += amount
        events.append(event)

        reversals = reversals_of(accrual)
        assert net(accrual) >= 0
        assert all(r.amount <= 0 and r.amount == r.amount.quantize(unit) for r in reversals)
        # One reversal per event at most.
        event_ids = [r.revenue_event_id for r in reversals]
        assert len(event_ids) == len(set(event_ids))

    if refunded == deal_amount:
        assert net(accrual) == 0


# ---------------------------------------------------------------- concurrency


@pytest.mark.django_db(transaction=True)
def test_recording_queues_the_reversal_after_commit(tenant):
    with tenant_scope(tenant):
        plan = CommissionPlanFactory(tenant=tenant, base_rate=Decimal("0.1000"))
        accrual = accrue(plan)
        event = refund(accrual, "400.00")  # commits; the eager task runs on commit

        event.refresh_from_db()
        assert event.processed_at is not None
        assert [r.amount for r in reversals_of(accrual)] == [Decimal("-60.00")]


def unprocessed_refund(accrual, amount) -> RevenueEvent:
    """Store a refund without queueing its task, which runs eagerly here on commit."""
    return RevenueEvent.objects.create(
        tenant=accrual.tenant,
        external_id=f"race-{uuid.uuid4().hex[:12]}",
        kind="refund",
        deal=accrual.deal,
        amount=Decimal(amount),
        currency=accrual.currency,
        occurred_on=CLOSED,
    )


def _race(tenant, actions) -> list:
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(position, action):
        try:
            with tenant_scope(tenant):
                barrier.wait(timeout=10)
                outcomes[position] = action()
        except BaseException as error:  # noqa: BLE001 - returned for the test to check
            outcomes[position] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_event_reverse_once(tenant):
    with tenant_scope(tenant):
        plan = CommissionPlanFactory(tenant=tenant, base_rate=Decimal("0.1000"))
        accrual = accrue(plan)
        event = unprocessed_refund(accrual, "400.00")

    outcomes = _race(tenant, [lambda: process(event)] * 2)

    assert sorted(outcomes) == [0, 1]
    with tenant_scope(tenant):
        assert [r.amount for r in reversals_of(accrual)] == [Decimal("-60.00")]


@pytest.mark.django_db(transaction=True)
def test_two_refunds_at_once_net_to_zero(tenant):
    with tenant_scope(tenant):
        plan = CommissionPlanFactory(tenant=tenant, base_rate=Decimal("0.1000"))
        accrual = accrue(plan, amount="100.00", tier="B")  # 10.00
        first = unprocessed_refund(accrual, "33.33")
        second = unprocessed_refund(accrual, "66.67")

    outcomes = _race(tenant, [lambda: process(first), lambda: process(second)])

    assert outcomes == [1, 1]
    with tenant_scope(tenant):
        assert net(accrual) == 0


def test_ledger_page_shows_reversal_memo(plan, staff_client):
    accrual = accrue(plan)
    process(refund(accrual, "250.00", external_id="rf-page"))

    page = staff_client.get("/ledger/").content.decode()

    assert "Refund rf-page of 250.00" in page
    assert f"accrual #{accrual.pk}" in page
    assert "-37.50" in page


def test_plan_form_sets_the_clawback_window(plan, staff_client):
    response = staff_client.post(
        "/ledger/plan/update/",
        {
            "name": plan.name, "base_rate_percent": "10", "multiplier_a": "1.5",
            "multiplier_b": "1", "multiplier_c": "0.5", "multiplier_d": "0",
            "clawback_days": "30",
        },
    )  # fmt: skip

    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.clawback_days == 30
    assert "Churn within 30 days" in staff_client.get("/ledger/plan/").content.decode()


def test_held_accrual_gets_a_pending_reversal(plan):
    accrual = accrue(plan)
    LedgerEntry.objects.filter(pk=accrual.pk).update(status=LedgerEntry.Status.HELD)

    process(refund(accrual, "100.00"))

    assert reversals_of(accrual)[0].status == LedgerEntry.Status.PENDING


def test_refund_after_churn_share(plan):
    account = AccountFactory(tenant=plan.tenant)
    accrual = accrue(plan, account=account)
    process(churn(account, days_after_close=45))  # takes 75.00 of 150.00
    process(refund(accrual, "600.00"))  # 60 % of the 75.00 left, not of 150.00

    last = reversals_of(accrual)[-1]
    # The partner keeps the 40 % not refunded of the half served: 150 × 0.4 × 0.5.
    assert last.amount == Decimal("-45.00")
    assert "the account churned" in last.memo
    assert net(accrual) == Decimal("30.00")


def test_churn_leaves_deals_closed_after_it(plan):
    account = AccountFactory(tenant=plan.tenant)
    before = accrue(plan, account=account)
    later_deal = DealFactory(
        tenant=plan.tenant,
        partner=before.partner,
        account=account,
        close_date=CLOSED + datetime.timedelta(days=60),
    )
    row = {
        "id": later_deal.pk, "partner_id": later_deal.partner_id, "amount": later_deal.amount,
        "currency": "USD", "won_fit_tier": "A", "won_fit_score": 90, "won_fit_version_id": None,
    }  # fmt: skip
    accruals_write(plan=plan, deals=[row])

    process(churn(account, days_after_close=30))

    later = LedgerEntry.objects.get(deal=later_deal, kind=LedgerEntry.Kind.ACCRUAL)
    assert reversals_of(before)
    assert not reversals_of(later)
