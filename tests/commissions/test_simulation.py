"""Simulating a plan on the won partner deals of the last months."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commissions.models import LedgerEntry
from commissions.reversals import revenue_event_process, revenue_event_record
from commissions.simulation import months_validate, plan_simulate, until_validate
from crm.models import Deal
from tenancy.errors import DomainError
from tests.commissions.simulation_data import draft, won
from tests.factories import AccountFactory, CommissionPlanFactory, PartnerFactory

MONEY = ("revenue", "simulated", "simulated_net", "active", "active_net")
MONEY += ("actual_accrued", "actual_net", "delta", "delta_actual")


@pytest.fixture
def today(scoped):
    return scoped.today()


@pytest.fixture
def active(scoped):
    return CommissionPlanFactory(tenant=scoped, name="Active", base_rate=Decimal("0.1000"))


def test_totals_equal_partner_and_tier_rows(scoped, active):
    first, second = PartnerFactory(tenant=scoped), PartnerFactory(tenant=scoped)
    for partner, amount, tier in [
        (first, "1000.00", "A"),
        (first, "333.33", "B"),
        (second, "777.77", "C"),
        (second, "1200.00", ""),
        (second, "50.01", "D"),
    ]:
        won(partner, amount=amount, tier=tier, book=active)

    report = plan_simulate(plan=draft(scoped, multiplier_a=Decimal("2.00")))

    assert report["totals"]["deals"] == 5
    for name in (*MONEY, "deals"):
        total = report["totals"][name]
        assert sum(row[name] for row in report["partners"]) == total, name
        assert sum(row[name] for row in report["tiers"]) == total, name
    assert [row["tier"] for row in report["tiers"]] == ["A", "B", "C", "D", "unscored"]


def test_higher_tier_a_multiplier_costs_exactly(scoped, active):
    partner = PartnerFactory(tenant=scoped, name="Initech Partners")
    won(partner, amount="1234.56", tier="A", book=active)
    won(partner, amount="1000.00", tier="B", book=active)

    report = plan_simulate(plan=draft(scoped, multiplier_a=Decimal("2.00")))

    tier_a = report["tiers"][0]
    # 1,234.56 × 10 % × 2.00 = 246.912, rounded half up; the active plan pays × 1.50.
    assert tier_a["simulated"] == Decimal("246.91")
    assert tier_a["active"] == Decimal("185.18")
    assert tier_a["delta"] == Decimal("61.73")
    assert tier_a["actual_accrued"] == Decimal("185.18")
    tier_b = report["tiers"][1]
    assert tier_b["simulated"] == tier_b["active"] == Decimal("100.00")
    assert tier_b["delta"] == Decimal("0.00")
    [row] = report["partners"]
    assert row["partner_name"] == "Initech Partners"
    assert row["simulated"] == Decimal("346.91")
    assert row["cost_share"] == Decimal("0.1552")  # 346.91 / 2,234.56


@pytest.mark.parametrize(
    ("frozen", "expected", "sources"),
    [
        # The original accrual's 10 % × 1.50 for tier A.
        pytest.param(True, Decimal("150.00"), [("frozen", 1, 1)], id="frozen"),
        # The draft's own 20 % × 1.50; the active plan still freezes renewals.
        pytest.param(False, Decimal("300.00"), [("default", 1, 0), ("frozen", 0, 1)], id="current"),
    ],
)
def test_renewal_priced_frozen_or_current(scoped, active, frozen, expected, sources):
    partner = PartnerFactory(tenant=scoped)
    account = AccountFactory(tenant=scoped)
    won(partner, account=account, days_ago=200, book=active)
    won(partner, account=account, days_ago=20, kind=Deal.Kind.RENEWAL)

    plan = draft(scoped, base_rate=Decimal("0.2000"), recurring_rate_frozen=frozen)
    report = plan_simulate(plan=plan, months=3)

    assert report["totals"]["deals"] == 1
    assert report["totals"]["simulated"] == expected
    assert report["totals"]["active"] == Decimal("150.00")
    assert report["rate_sources"] == [
        {"rate_source": source, "simulated_deals": simulated, "active_deals": active_deals}
        for source, simulated, active_deals in sources
    ]


def test_caps_start_from_zero_in_the_window(scoped, active):
    partner = PartnerFactory(tenant=scoped)
    # The active plan booked 150.00 this month, which the draft's cap does not count.
    won(partner, days_ago=0, book=active)
    won(partner, amount="2000.00", days_ago=0)

    plan = draft(scoped, cap_per_partner=Decimal("250.00"), cap_period="year")
    report = plan_simulate(plan=plan)

    # 150.00 + 300.00 capped at what is left of 250.00.
    assert report["totals"]["simulated"] == Decimal("250.00")
    assert report["totals"]["active"] == Decimal("450.00")
    assert report["totals"]["actual_accrued"] == Decimal("150.00")


def test_skipped_deals_are_counted(scoped, active):
    partner = PartnerFactory(tenant=scoped)
    won(partner, book=active)
    won(partner)
    won(partner)
    no_date = won(partner)
    Deal.objects.filter(pk=no_date.pk).update(close_date=None)
    won(partner, currency="EUR")  # no EUR rate, so no amount in the base currency
    won(partner, pipeline_status=Deal.PipelineStatus.PENDING)
    won(partner, days_ago=400)  # outside the window: neither counted nor skipped

    report = plan_simulate(plan=draft(scoped))

    assert report["totals"]["deals"] == 3
    skipped = {row["reason"]: row["deals"] for row in report["skipped"]}
    assert skipped == {"not_booked": 1, "no_close_date": 1, "currency_mismatch": 1}


def test_other_currency_is_priced_at_its_base_amount(scoped, active):
    partner = PartnerFactory(tenant=scoped)
    deal = won(partner, currency="EUR", amount="1000.00")
    Deal.objects.filter(pk=deal.pk).update(amount_base=Decimal("1100.00"))

    report = plan_simulate(plan=draft(scoped))

    assert all(row["deals"] == 0 for row in report["skipped"])
    assert report["totals"]["deals"] == 1
    assert report["totals"]["revenue"] == Decimal("1100.00")


def test_refunds_reduce_simulated_net(scoped, active):
    partner = PartnerFactory(tenant=scoped)
    deal = won(partner, amount="1000.00", book=active)
    event = revenue_event_record(
        tenant=scoped,
        external_id="refund-1",
        kind="refund",
        occurred_on=deal.close_date,
        deal_external_id=deal.external_id,
        amount=Decimal("250.00"),
    ).event
    revenue_event_process(tenant_id=scoped.pk, event_id=event.pk)

    report = plan_simulate(plan=draft(scoped, multiplier_a=Decimal("2.00")))

    totals = report["totals"]
    assert totals["simulated"] == Decimal("200.00")
    assert totals["simulated_net"] == Decimal("150.00")
    assert totals["active_net"] == Decimal("112.50")
    assert totals["actual_accrued"] == Decimal("150.00")
    assert totals["actual_net"] == Decimal("112.50")


def test_without_active_plan_has_no_comparison(scoped):
    partner = PartnerFactory(tenant=scoped)
    won(partner)

    report = plan_simulate(plan=draft(scoped))

    assert report["compare_to"] is None
    assert report["totals"]["active"] is None
    assert report["totals"]["delta"] is None
    assert report["totals"]["simulated"] == Decimal("150.00")
    assert LedgerEntry.objects.count() == 0


@pytest.mark.parametrize("months", [0, 61, "twelve", None, True])
def test_months_out_of_range_rejected(months):
    with pytest.raises(DomainError) as raised:
        months_validate(months)

    assert raised.value.field == "months"


@pytest.mark.parametrize(
    ("until", "reason"),
    [
        ("2999-01-01", "later than today"),
        ("2017-02-30", "not a valid date"),
        ("yesterday", "not a valid date"),
        (12, "not a valid date"),
    ],
)
def test_until_in_future_or_invalid_rejected(scoped, until, reason):
    with pytest.raises(DomainError) as raised:
        until_validate(until, today=scoped.today())

    assert raised.value.field == "until"
    assert reason in raised.value.message


def test_until_moves_the_window_back(scoped, active):
    partner = PartnerFactory(tenant=scoped)
    won(partner, days_ago=400)
    won(partner, days_ago=10)
    until = scoped.today() - datetime.timedelta(days=300)

    report = plan_simulate(plan=draft(scoped), months=12, until=until)

    assert report["window_end"] == until
    assert report["totals"]["deals"] == 1


def test_queries_do_not_grow_with_deals(scoped, active):
    partner = PartnerFactory(tenant=scoped)
    account = AccountFactory(tenant=scoped)
    won(partner, account=account, days_ago=100, book=active)
    won(partner, account=account, days_ago=90, kind=Deal.Kind.RENEWAL, book=active)
    plan = draft(scoped, cap_per_partner=Decimal("1000.00"))
    with CaptureQueriesContext(connection) as few:
        plan_simulate(plan=plan)
    for days_ago in range(10, 60, 10):
        won(PartnerFactory(tenant=scoped), days_ago=days_ago, book=active)
        won(partner, account=account, days_ago=days_ago, kind=Deal.Kind.RENEWAL, book=active)

    with CaptureQueriesContext(connection) as many:
        report = plan_simulate(plan=plan)

    assert report["totals"]["deals"] == 12
    assert len(many) == len(few)
