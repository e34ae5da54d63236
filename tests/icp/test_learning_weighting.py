"""Deal weighting when learning: value weights, churned wins, lifetime value, progress."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from icp.learning import PROFILE_STEPS, InsufficientData, learn_profile
from icp.learning.weighting import (
    apply_weighting,
    churned_wins,
    lifetime_values,
    validate_weighting,
    value_weights,
)
from tenancy.errors import DomainError
from tests.icp.test_learning import industry_decides_deals, synthetic_deals


def frame(rows: list[tuple]) -> pd.DataFrame:
    """Build deals from (won, amount, close_date, churned_on) tuples."""
    deals = pd.DataFrame(rows, columns=["won", "amount", "close_date", "churned_on"])
    deals["close_date"] = pd.to_datetime(deals["close_date"])
    deals["churned_on"] = pd.to_datetime(deals["churned_on"])
    return deals


def test_value_weights_are_amount_over_median_clipped():
    deals = frame(
        [
            (True, 100.0, "2024-01-01", None),
            (True, 1000.0, "2024-01-01", None),
            (True, 10.0, "2024-01-01", None),
            (True, 100_000.0, "2024-01-01", None),
            (True, 0.0, "2024-01-01", None),
            (False, 50_000.0, "2024-01-01", None),
        ]
    )

    weights = value_weights(deals).tolist()

    # The median of the four positive won amounts is 550: 100 / 550 is clipped up to
    # 0.2 and 100,000 / 550 down to 5. Lost deals and wins without an amount count 1.
    assert weights == pytest.approx([0.2, 1000 / 550, 0.2, 5.0, 1.0, 1.0])


def test_value_weights_without_amounts_are_one():
    deals = frame([(True, 0.0, "2024-01-01", None), (False, 0.0, "2024-01-01", None)])

    assert value_weights(deals).tolist() == [1.0, 1.0]


def test_churned_wins_use_a_365_day_window():
    deals = frame(
        [
            (True, 100.0, "2024-01-01", "2024-12-31"),
            (True, 100.0, "2024-01-01", "2025-01-02"),
            (True, 100.0, "2024-06-01", "2024-01-01"),
            (True, 100.0, None, "2024-01-01"),
            (True, 100.0, "2024-01-01", None),
            (False, 0.0, "2024-01-01", "2024-02-01"),
        ]
    )

    assert churned_wins(deals).tolist() == [True, False, True, True, False, False]


def test_lifetime_value_counts_the_share_of_a_year_stayed():
    deals = frame(
        [
            (True, 365.0, "2024-01-01", "2024-04-01"),
            (True, 365.0, "2024-01-01", "2026-01-01"),
            (True, 365.0, "2024-06-01", "2024-01-01"),
            (True, 365.0, None, "2024-01-01"),
            (True, 365.0, "2024-01-01", None),
            (False, 365.0, "2024-01-01", None),
        ]
    )

    assert lifetime_values(deals).tolist() == [91.0, 365.0, 0.0, 0.0, 365.0, 0.0]


def test_apply_weighting_counts_churned_wins_as_lost():
    deals = frame(
        [
            (True, 100.0, "2024-01-01", "2024-03-01"),
            (True, 300.0, "2024-01-01", None),
            (False, 0.0, "2024-01-01", None),
        ]
    )

    plain = apply_weighting(deals, "value")
    churn = apply_weighting(deals, "value_and_churn")

    assert plain["won"].tolist() == [True, True, False]
    assert churn["won"].tolist() == [False, True, False]
    assert churn["won_recorded"].tolist() == [True, True, False]
    assert churn["weight"].tolist() == plain["weight"].tolist() == [0.5, 1.5, 1.0]
    assert apply_weighting(deals, "none")["weight"].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("weighting", ["", "Value", "churn", None, 3])
def test_invalid_weighting_raises(weighting):
    with pytest.raises(DomainError) as caught:
        validate_weighting(weighting)

    assert caught.value.field == "weighting"
    assert caught.value.value == weighting
    assert "none, value, value_and_churn" in caught.value.message


def test_learn_profile_rejects_unknown_weighting():
    with pytest.raises(DomainError, match="Weighting 'revenue' is invalid"):
        learn_profile(industry_decides_deals(), weighting="revenue")


def churning_segment_deals(seed: int = 5) -> pd.DataFrame:
    """Return deals where software wins 85%, medical 60% and others 25% of the time.

    Every software account churned 30 days after the last close date, so each of
    its wins went to a customer who left within a year.
    """
    deals = synthetic_deals(seed=seed)
    rng = np.random.default_rng(seed + 1)
    industry = deals["industry"]
    chance = np.select([industry == "software", industry == "medical"], [0.85, 0.6], 0.25)
    deals["won"] = rng.random(len(deals)) < chance
    deals["amount"] = np.where(deals["won"], 1000.0, 0.0)
    deals["churned_on"] = pd.NaT
    software = industry == "software"
    churn_date = deals["close_date"].max() + pd.Timedelta(days=30)
    deals.loc[software, "churned_on"] = churn_date
    return deals


@pytest.fixture(scope="module")
def churn_profiles():
    deals = churning_segment_deals()
    return {
        weighting: learn_profile(deals, weighting=weighting)
        for weighting in ("none", "value_and_churn")
    }


def rewarded_industries(profile) -> set[str]:
    return {
        value
        for criterion in profile.criteria
        if criterion["field"] == "industry"
        for value in criterion["values"]
    }


def test_unweighted_profile_rewards_churning_segment(churn_profiles):
    profile = churn_profiles["none"]

    assert "software" in rewarded_industries(profile)
    assert profile.metrics["churned_wins"] > 0
    assert "They still count as won" in profile.summary
    industry = next(c for c in profile.criteria if c["field"] == "industry")
    assert industry["lift"]["lifetime_value"] < industry["lift"]["won_value"]


def test_churn_weighted_profile_drops_churning_segment(churn_profiles):
    profile = churn_profiles["value_and_churn"]
    unweighted = churn_profiles["none"]

    assert rewarded_industries(profile) == {"medical"}
    assert profile.metrics["weighting"] == "value_and_churn"
    assert profile.metrics["churned_wins"] == unweighted.metrics["churned_wins"]
    assert f"churned within 365 days: {profile.metrics['churned_wins']}" in profile.summary
    assert "They count as lost." in profile.summary
    assert profile.metrics["counts"] == unweighted.metrics["counts"]


def test_churn_weighted_tiers_report_churn(churn_profiles):
    profile = churn_profiles["value_and_churn"]
    tiers = profile.metrics["tiers"]

    assert tiers["A"]["churn_rate"] == 0.0
    assert tiers["D"]["churn_rate"] > 0.3
    assert tiers["A"]["win_rate"] > tiers["D"]["win_rate"]
    recorded_value = 1000.0 * profile.metrics["counts"]["won"]
    lifetime_value = sum(figures["lifetime_value"] for figures in tiers.values())
    won_value = sum(figures["won_value"] for figures in tiers.values())
    # Churned wins count for part of their value in lifetime value, for none in won value.
    assert won_value < lifetime_value < recorded_value


def test_churn_weighting_with_too_few_wins_left_raises():
    deals = synthetic_deals(seed=3)
    deals["won"] = np.arange(len(deals)) % 2 == 0
    deals["amount"] = 100.0
    deals["churned_on"] = deals["close_date"] + pd.Timedelta(days=10)
    deals.loc[:9, "churned_on"] = pd.NaT

    with pytest.raises(InsufficientData) as caught:
        learn_profile(deals, weighting="value_and_churn")

    assert "5 won deals remain after counting 295 churned wins as lost" in caught.value.message
    assert "at least 10" in caught.value.message


def test_weighted_learning_is_deterministic():
    deals = churning_segment_deals()

    first = learn_profile(deals, weighting="value_and_churn")
    second = learn_profile(deals.copy(), weighting="value_and_churn")

    assert first.criteria == second.criteria
    assert first.tier_cutoffs == second.tier_cutoffs
    assert first.metrics == second.metrics
    assert first.summary == second.summary


def test_progress_reports_every_step():
    calls = []

    learn_profile(industry_decides_deals(), progress=lambda *call: calls.append(call))

    total = len(PROFILE_STEPS)
    assert [call[0] for call in calls] == list(range(total + 1))
    assert {call[1] for call in calls} == {total}
    assert [call[2] for call in calls[:total]] == list(PROFILE_STEPS)
    assert calls[1][2] == "Cross-validating won vs lost"
