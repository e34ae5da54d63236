"""The learner on synthetic deals: signal, no signal, counts, errors and determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from icp.learning import InsufficientData, learn_profile

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "crm-sales-opportunities"


def synthetic_deals(*, seed: int, accounts: int = 60, deals_per_account: int = 10) -> pd.DataFrame:
    """Return closed deals on accounts with random firmographics, all lost for now."""
    rng = np.random.default_rng(seed)
    industries = np.array(["software", "retail", "medical", "finance"])
    employees = rng.integers(10, 5000, accounts).astype(float)
    employees[::7] = np.nan
    table = pd.DataFrame(
        {
            "account_id": np.arange(1, accounts + 1),
            "industry": industries[np.arange(accounts) % len(industries)],
            "country": rng.choice(["US", "DE", "FR"], accounts),
            "employees": employees,
            "annual_revenue": rng.uniform(1e6, 1e9, accounts),
            "year_established": rng.integers(1950, 2020, accounts),
        }
    )
    deals = table.loc[np.repeat(table.index, deals_per_account)].reset_index(drop=True)
    deals["won"] = False
    deals["amount"] = 0.0
    offsets = pd.to_timedelta(rng.integers(0, 365, len(deals)), unit="D")
    deals["close_date"] = pd.Timestamp("2024-01-01") + offsets
    return deals


def industry_decides_deals(seed: int = 7) -> pd.DataFrame:
    """Return deals where software accounts win 85% of the time and others 25%."""
    deals = synthetic_deals(seed=seed)
    rng = np.random.default_rng(seed + 1)
    chance = np.where(deals["industry"] == "software", 0.85, 0.25)
    deals["won"] = rng.random(len(deals)) < chance
    deals["amount"] = np.where(deals["won"], 1000.0, 0.0)
    return deals


def random_deals(seed: int = 11) -> pd.DataFrame:
    deals = synthetic_deals(seed=seed)
    rng = np.random.default_rng(seed + 1)
    deals["won"] = rng.random(len(deals)) < 0.5
    deals["amount"] = np.where(deals["won"], rng.uniform(100, 5000, len(deals)), 0.0)
    return deals


def assert_cutoffs_ordered(cutoffs: dict) -> None:
    assert set(cutoffs) == {"A", "B", "C"}
    assert all(isinstance(value, int) for value in cutoffs.values())
    assert 100 >= cutoffs["A"] > cutoffs["B"] > cutoffs["C"] >= 0


def assert_weights_sum_to_100(criteria: list[dict]) -> None:
    assert all(isinstance(criterion["weight"], int) for criterion in criteria)
    assert all(criterion["weight"] > 0 for criterion in criteria)
    assert sum(criterion["weight"] for criterion in criteria) == 100


@pytest.fixture(scope="module")
def industry_profile():
    return learn_profile(industry_decides_deals())


def test_industry_signal_is_found(industry_profile):
    profile = industry_profile

    assert profile.objective == "won"
    assert profile.signal == "strong"
    assert profile.metrics["cv_auc_won"]["mean"] >= 0.65
    assert profile.metrics["cv_auc_won"]["folds"] == 5
    by_key = {criterion["key"]: criterion for criterion in profile.criteria}
    assert by_key["industry"]["kind"] == "category"
    assert by_key["industry"]["values"] == ["software"]
    assert by_key["industry"]["label"] == "Industry: software"
    assert by_key["industry"]["weight"] == max(c["weight"] for c in profile.criteria)
    assert by_key["industry"]["support"] == {"deals": 150, "accounts": 15}
    assert by_key["industry"]["lift"]["win_rate"] > 2
    assert_weights_sum_to_100(profile.criteria)
    assert_cutoffs_ordered(profile.tier_cutoffs)
    assert profile.summary.startswith("Won vs lost shows strong signal")


def test_industry_signal_tiers_separate_win_rates(industry_profile):
    profile = industry_profile

    tiers = profile.metrics["tiers"]
    assert tiers["A"]["accounts"] == 15
    assert tiers["A"]["win_rate"] > 0.8
    assert tiers["D"]["win_rate"] < 0.3
    assert sum(tier["accounts"] for tier in tiers.values()) == 60
    assert sum(tier["closed_deals"] for tier in tiers.values()) == 600
    assert profile.metrics["cv_auc_criteria"]["mean"] >= 0.65


def test_random_outcomes_have_no_signal():
    profile = learn_profile(random_deals())

    assert profile.signal == "none"
    assert profile.metrics["cv_auc_won"]["mean"] < 0.55
    assert profile.metrics["cv_auc_value"]["mean"] < 0.6
    assert "No criteria beat chance" in profile.summary
    assert_cutoffs_ordered(profile.tier_cutoffs)


def test_counts_and_training_dates(industry_profile):
    deals = industry_decides_deals()
    profile = industry_profile

    counts = profile.metrics["counts"]
    assert counts == {
        "closed": 600,
        "won": int(deals["won"].sum()),
        "lost": 600 - int(deals["won"].sum()),
        "accounts": 60,
    }
    assert profile.trained_from == deals["close_date"].min().date()
    assert profile.trained_to == deals["close_date"].max().date()
    assert profile.metrics["trained_to"] == deals["close_date"].max().date().isoformat()


@pytest.mark.parametrize(
    ("accounts", "deals_per_account", "short_on"),
    [
        pytest.param(10, 3, "closed, accounts", id="few-deals-and-accounts"),
        pytest.param(10, 10, "accounts", id="few-accounts"),
    ],
)
def test_too_few_deals_raises(accounts, deals_per_account, short_on):
    deals = synthetic_deals(seed=1, accounts=accounts, deals_per_account=deals_per_account)
    deals["won"] = np.arange(len(deals)) % 2 == 0

    with pytest.raises(InsufficientData) as caught:
        learn_profile(deals)

    closed = accounts * deals_per_account
    assert f"found {closed} closed, {closed // 2} won, {closed // 2} lost" in caught.value.message
    assert "at least 40 closed, 10 won, 10 lost, 15 accounts" in caught.value.message
    assert f"short on {short_on}" in caught.value.message
    assert caught.value.field == "deals"
    assert caught.value.value["closed"] == closed


def test_too_few_lost_deals_raises():
    deals = synthetic_deals(seed=1)
    deals["won"] = True
    deals.loc[:4, "won"] = False

    with pytest.raises(InsufficientData, match=r"short on lost\)"):
        learn_profile(deals)


def test_learning_is_deterministic(industry_profile):
    first = industry_profile
    second = learn_profile(industry_decides_deals())

    assert first.criteria == second.criteria
    assert first.tier_cutoffs == second.tier_cutoffs
    assert first.metrics == second.metrics
