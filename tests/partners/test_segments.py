"""Segment rules at their thresholds, on overlap alone and with results."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from partners.segments import (
    HIGH_OVERLAP,
    LOW_OVERLAP,
    MIN_CLOSED_DEALS,
    SEGMENT_RULES,
    segment_decide,
    segment_metrics,
    segment_rules_data,
)

# Results exactly at every threshold of good results, from five closed deals.
AT_THRESHOLDS = {
    "won_deal_count": 4,
    "lost_deal_count": 1,
    "overlap_score": 60,
    "win_rate": Decimal("0.2500"),
    "on_profile_customer_share": Decimal("0.5000"),
    "churn_rate": Decimal("0.2500"),
    "commission_to_lifetime_value": Decimal("0.5000"),
}
NO_RESULTS = {
    "won_deal_count": 0,
    "lost_deal_count": 0,
    "win_rate": None,
    "on_profile_customer_share": None,
    "churn_rate": None,
    "commission_to_lifetime_value": None,
}


def score(**values) -> SimpleNamespace:
    return SimpleNamespace(**{**AT_THRESHOLDS, **values})


@pytest.mark.parametrize(
    ("values", "segment", "basis"),
    [
        pytest.param({}, "strategic", "overlap_and_results", id="all-at-thresholds"),
        pytest.param({"overlap_score": 59}, "nurture", "overlap_and_results", id="overlap-59"),
        pytest.param(
            {"win_rate": Decimal("0.2499")}, "grow", "overlap_and_results", id="win-rate-below"
        ),
        pytest.param(
            {"on_profile_customer_share": Decimal("0.4999")},
            "grow",
            "overlap_and_results",
            id="customer-share-below",
        ),
        pytest.param(
            {"churn_rate": Decimal("0.2501")}, "grow", "overlap_and_results", id="churn-above"
        ),
        pytest.param(
            {"commission_to_lifetime_value": Decimal("0.5001")},
            "grow",
            "overlap_and_results",
            id="cost-above",
        ),
        pytest.param(
            {"commission_to_lifetime_value": None},
            "grow",
            "overlap_and_results",
            id="no-lifetime-value",
        ),
        pytest.param(
            {"overlap_score": 59, "win_rate": Decimal("0.1000")},
            "deprioritise",
            "overlap_and_results",
            id="low-overlap-bad-results",
        ),
        pytest.param(
            {"overlap_score": 0}, "nurture", "overlap_and_results", id="no-overlap-good-results"
        ),
        # Four closed deals: the overlap score alone decides, even with top results.
        pytest.param(
            {"won_deal_count": 4, "lost_deal_count": 0, "overlap_score": 100},
            "grow",
            "overlap_only",
            id="four-deals-overlap-100",
        ),
        pytest.param(
            {"won_deal_count": 3, "lost_deal_count": 1, "overlap_score": 60},
            "grow",
            "overlap_only",
            id="four-deals-overlap-60",
        ),
        pytest.param(
            {"won_deal_count": 3, "lost_deal_count": 1, "overlap_score": 59},
            "nurture",
            "overlap_only",
            id="four-deals-overlap-59",
        ),
        pytest.param(
            {"won_deal_count": 3, "lost_deal_count": 1, "overlap_score": 30},
            "nurture",
            "overlap_only",
            id="four-deals-overlap-30",
        ),
        pytest.param(
            {"won_deal_count": 3, "lost_deal_count": 1, "overlap_score": 29},
            "deprioritise",
            "overlap_only",
            id="four-deals-overlap-29",
        ),
        pytest.param(
            {**NO_RESULTS, "overlap_score": 75}, "grow", "overlap_only", id="no-deals-high"
        ),
        pytest.param(
            {**NO_RESULTS, "overlap_score": 0}, "deprioritise", "overlap_only", id="no-deals-zero"
        ),
    ],
)
def test_segment_at_boundaries(values, segment, basis):
    decision = segment_decide(score(**values))

    assert decision.segment == segment
    assert decision.basis == basis
    assert decision.rule.segment == segment


def test_thresholds_as_documented():
    assert (HIGH_OVERLAP, LOW_OVERLAP, MIN_CLOSED_DEALS) == (60, 30, 5)


@pytest.mark.parametrize("closed", [0, 4, 5, 50])
@pytest.mark.parametrize("good", [True, False])
def test_exactly_one_rule_matches(closed, good):
    for overlap in range(101):
        values = {"won_deal_count": closed, "lost_deal_count": 0, "overlap_score": overlap}
        if not good:
            values["win_rate"] = Decimal("0")
        metrics = segment_metrics(score(**values))

        matching = [
            rule
            for rule in SEGMENT_RULES
            if all(condition.holds(metrics) for condition in rule.conditions)
        ]

        assert len(matching) == 1, (closed, good, overlap)


def test_rules_data_lists_every_condition():
    data = segment_rules_data()

    assert data["min_closed_deals"] == 5
    assert [segment["key"] for segment in data["segments"]] == [
        "strategic",
        "grow",
        "nurture",
        "deprioritise",
    ]
    strategic = data["segments"][0]["rules"]
    assert len(strategic) == 1
    assert strategic[0]["conditions"] == [
        {
            "metric": "closed_deal_count",
            "label": "Closed deals (won + lost)",
            "operator": ">=",
            "value": 5,
        },
        {"metric": "overlap_score", "label": "Overlap score", "operator": ">=", "value": 60},
        {"metric": "good_results", "label": "Good results", "operator": "=", "value": True},
    ]
    assert [condition["value"] for condition in data["good_results"]] == [
        "0.25",
        "0.50",
        "0.25",
        "0.50",
    ]
    nurture_only = data["segments"][2]["rules"][1]
    assert nurture_only["basis"] == "overlap_only"
    assert nurture_only["text"] == (
        "Closed deals (won + lost) < 5 and Overlap score ≥ 30 and Overlap score < 60"
    )
