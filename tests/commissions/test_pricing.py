"""Pricing one deal under a plan: rule precedence, multipliers, minimum fit, caps, renewals."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commissions.models import CommissionPlan, CommissionRule
from commissions.pricing import (
    DealFacts,
    OriginalAccrual,
    cap_period_bounds,
    deal_price,
    rule_pick,
)

CLOSED = datetime.date(2026, 3, 10)


def plan(**values) -> CommissionPlan:
    defaults = {"name": "Test", "base_rate": Decimal("0.1000"), "score_bands": []}
    return CommissionPlan(**{**defaults, **values})


def rule(scope, rate, *, value="", partner_id=None, deal_kind="", flat=None) -> CommissionRule:
    return CommissionRule(
        scope=scope,
        value=value,
        partner_id=partner_id,
        deal_kind=deal_kind,
        payout_type="flat" if flat is not None else "percentage",
        rate=None if flat is not None else Decimal(rate),
        flat_amount=Decimal(flat) if flat is not None else None,
    )


def facts(**values) -> DealFacts:
    defaults = {
        "amount": Decimal("1000.00"),
        "currency": "USD",
        "kind": "new",
        "product": "Pro",
        "partner_id": 7,
        "partner_segment": "grow",
        "partner_tier": "gold",
        "fit_tier": "B",
        "fit_score": 70,
        "close_date": CLOSED,
        "original": None,
    }
    return DealFacts(**{**defaults, **values})


ALL_RULES = [
    rule("program", "0.05"),
    rule("product", "0.06", value="pro"),
    rule("partner_tier", "0.07", value="gold"),
    rule("segment", "0.08", value="grow"),
    rule("partner", "0.09", partner_id=7),
]


@pytest.mark.parametrize(
    ("dropped", "source", "rate"),
    [
        (0, "partner", "0.09"),
        (1, "segment", "0.08"),
        (2, "partner_tier", "0.07"),
        (3, "product", "0.06"),
        (4, "program", "0.05"),
        (5, "default", "0.1000"),
    ],
)
def test_precedence_partner_segment_tier_product_program_default(dropped, source, rate):
    # Keep the rules below the level under test: the highest one present wins.
    rules = ALL_RULES[: len(ALL_RULES) - dropped]

    price = deal_price(plan(), rules, facts())

    assert (price.rate_source, price.rate) == (source, Decimal(rate))


def test_deal_kind_rule_beats_any_kind():
    rules = [rule("program", "0.05"), rule("program", "0.02", deal_kind="renewal")]

    assert rule_pick(rules, facts(kind="renewal")).rate == Decimal("0.02")
    assert rule_pick(rules, facts(kind="new")).rate == Decimal("0.05")


def test_other_targets_do_not_match():
    rules = [
        rule("partner", "0.5", partner_id=8),
        rule("segment", "0.5", value="strategic"),
        rule("partner_tier", "0.5", value="silver"),
        rule("product", "0.5", value="Basic"),
    ]

    price = deal_price(plan(), rules, facts())

    assert price.rate_source == "default"


def test_amount_multiplies_every_factor_and_rounds_half_up():
    priced_plan = plan(
        multiplier_b=Decimal("1.00"),
        score_bands=[{"min_score": 60, "multiplier": "1.10"}, {"min_score": 80, "multiplier": "2"}],
        partner_tier_multipliers={"gold": "1.20"},
        segment_multiplier_grow=Decimal("0.50"),
    )

    price = deal_price(priced_plan, [], facts(amount=Decimal("1000.05")))

    # 1,000.05 × 0.1 × 1.00 × 1.10 × 0.50 × 1.20 = 66.0033
    assert price.amount == Decimal("66.00")
    assert (price.band_multiplier, price.partner_tier_multiplier) == (
        Decimal("1.10"),
        Decimal("1.20"),
    )
    assert price.steps[-1] == "= 66.00 USD"


@pytest.mark.parametrize(
    ("score", "expected"),
    [(None, "1"), (59, "1"), (60, "1.10"), (79, "1.10"), (80, "2"), (100, "2")],
)
def test_score_band_highest_minimum(score, expected):
    banded = plan(
        score_bands=[{"min_score": 80, "multiplier": "2"}, {"min_score": 60, "multiplier": "1.10"}]
    )

    assert deal_price(banded, [], facts(fit_score=score)).band_multiplier == Decimal(expected)


def test_flat_plan_pays_flat_amount_times_multipliers():
    flat = plan(payout_type="flat", flat_amount=Decimal("500.00"), multiplier_a=Decimal("1.50"))

    price = deal_price(flat, [], facts(fit_tier="A"))

    assert (price.payout_type, price.rate, price.flat_amount) == ("flat", 0, Decimal("500.00"))
    assert price.amount == Decimal("750.00")


def test_flat_rule_overrides_percentage_default():
    price = deal_price(plan(), [rule("segment", None, value="grow", flat="250")], facts())

    assert price.amount == Decimal("250.00")
    assert "Segment rule grow: a flat 250 per deal" in price.rate_source_detail


@pytest.mark.parametrize(("score", "pays"), [(None, False), (49, False), (50, True)])
def test_minimum_fit_pays_nothing_below_it(score, pays):
    price = deal_price(plan(min_fit_score=50), [], facts(fit_score=score))

    assert (price.amount > 0) is pays
    if not pays:
        assert price.uncapped_amount == Decimal("100.00")
        assert "below the plan's minimum of 50" in price.steps[-1]


def test_cap_per_deal_lowers_amount_and_keeps_uncapped():
    price = deal_price(plan(cap_per_deal=Decimal("60.00")), [], facts())

    assert (price.amount, price.uncapped_amount) == (Decimal("60.00"), Decimal("100.00"))


def original(**values) -> OriginalAccrual:
    defaults = {
        "id": 41,
        "close_date": datetime.date(2025, 6, 15),
        "rate": Decimal("0.2000"),
        "flat_amount": None,
        "multiplier": Decimal("1.50"),
        "band_multiplier": None,
        "segment_multiplier": Decimal("1.00"),
        "partner_tier_multiplier": None,
        "partner_segment": "strategic",
        "rate_source_detail": "Program default",
    }
    return OriginalAccrual(**{**defaults, **values})


def test_renewal_inside_window_pays_original_frozen_terms():
    renewal = facts(kind="renewal", original=original(), fit_tier="D")

    price = deal_price(plan(recurring_months=12), ALL_RULES, renewal)

    # The original's 20 % × 1.50, not today's partner rule or tier D.
    assert (price.rate_source, price.original_id) == ("frozen", 41)
    assert price.amount == Decimal("300.00")


@pytest.mark.parametrize(
    ("months", "close_date", "pays"),
    [
        (12, datetime.date(2026, 6, 14), True),
        (12, datetime.date(2026, 6, 15), False),
        (0, datetime.date(2025, 7, 1), False),
        (None, datetime.date(2040, 1, 1), True),
    ],
)
def test_recurring_window_counts_months_from_original_close(months, close_date, pays):
    renewal = facts(kind="expansion", original=original(), close_date=close_date)

    price = deal_price(plan(recurring_months=months), [], renewal)

    assert (price.amount > 0) is pays
    if not pays:
        assert price.rate_source == "recurring"
        assert price.original_id == 41


def test_renewal_current_rules_unfrozen():
    renewal = facts(kind="renewal", original=original())
    rules = [rule("program", "0.05"), rule("program", "0.03", deal_kind="renewal")]

    price = deal_price(plan(recurring_rate_frozen=False), rules, renewal)

    assert (price.rate_source, price.rate) == ("program", Decimal("0.03"))


def test_renewal_without_original_is_priced_like_new_business():
    price = deal_price(plan(), [], facts(kind="renewal"))

    assert price.rate_source == "default"
    assert "No earlier accrual" in " ".join(price.steps)


@pytest.mark.parametrize(
    ("period", "day", "bounds"),
    [
        ("month", datetime.date(2026, 2, 14), ("2026-02-01", "2026-02-28")),
        ("quarter", datetime.date(2026, 5, 31), ("2026-04-01", "2026-06-30")),
        ("quarter", datetime.date(2026, 12, 1), ("2026-10-01", "2026-12-31")),
        ("year", datetime.date(2024, 2, 29), ("2024-01-01", "2024-12-31")),
    ],
)
def test_cap_period_bounds(period, day, bounds):
    start, end = cap_period_bounds(plan(cap_period=period), day)

    assert (start.isoformat(), end.isoformat()) == bounds


CURRENCIES = {"USD": 2, "JPY": 0, "KWD": 3}


@settings(max_examples=300, deadline=None)
@given(
    amount=st.decimals(min_value=0, max_value=10**9, places=2),
    rate=st.decimals(min_value=0, max_value=1, places=4),
    multiplier=st.decimals(min_value=0, max_value=10, places=2),
    band=st.decimals(min_value=0, max_value=10, places=2),
    cap=st.one_of(st.none(), st.decimals(min_value=0, max_value=10**6, places=2)),
    currency=st.sampled_from(sorted(CURRENCIES)),
)
def test_price_bounds_property(amount, rate, multiplier, band, cap, currency):
    priced_plan = plan(
        base_rate=rate,
        multiplier_b=multiplier,
        score_bands=[{"min_score": 0, "multiplier": str(band)}],
        cap_per_deal=cap,
    )

    price = deal_price(priced_plan, [], facts(amount=amount, currency=currency))

    assert price.amount >= 0
    assert -price.amount.as_tuple().exponent <= CURRENCIES[currency]
    if cap is not None:
        assert price.amount <= cap
