"""The learner on the demo's real CRM Sales Opportunities data.

The figures asserted here were measured by running the learner on this data set.
The tolerances allow for small changes in library versions, not for a different
verdict.
"""

from __future__ import annotations

import csv
import io

import pytest

from demo import sources
from icp.learning import learn_profile
from icp.scoring import accounts_frame, score_frame, tier_shares
from tests.icp.real_data import demo_accounts, demo_closed_deals

CRM_ACCOUNTS = 85
# Columns of the Inc. 5000 prospects that the demo imports next to the CRM accounts.
INC5000_FIELDS = ("industry", "country", "employees", "annual_revenue", "region")


@pytest.fixture(scope="module")
def deals():
    return demo_closed_deals()


@pytest.fixture(scope="module")
def profile(deals):
    return learn_profile(deals)


def test_real_data_counts(profile):
    assert profile.metrics["counts"] == {
        "closed": 6711,
        "won": 4238,
        "lost": 2473,
        "accounts": CRM_ACCOUNTS,
    }
    assert profile.metrics["weighting"] == "none"
    assert profile.metrics["churned_wins"] == 0


def test_real_data_won_vs_lost_has_no_signal(profile):
    cv_won = profile.metrics["cv_auc_won"]

    assert cv_won["mean"] == pytest.approx(0.49, abs=0.03)
    assert cv_won["folds"] == 5
    assert profile.summary.startswith("Won vs lost shows no signal")


def test_real_data_won_value_carries_signal(profile):
    assert profile.objective == "won_value"
    assert profile.signal == "strong"
    assert profile.metrics["cv_auc_value"]["mean"] == pytest.approx(0.875, abs=0.05)
    assert profile.metrics["cv_auc_criteria"]["mean"] == pytest.approx(0.87, abs=0.05)
    assert profile.metrics["spearman"]["employees"] == pytest.approx(0.67, abs=0.01)
    assert profile.metrics["spearman"]["annual_revenue"] == pytest.approx(0.72, abs=0.01)
    assert "Won value does carry strong signal" in profile.summary
    assert profile.summary.endswith("Every closed deal counts once.")


def test_real_data_top_criterion_is_revenue(profile):
    top = profile.criteria[0]

    assert top["field"] == "annual_revenue"
    assert top["kind"] == "range"
    assert top["min"] == 1_200_000_000
    assert top["max"] is None
    assert top["weight"] == pytest.approx(73, abs=8)
    assert top["support"] == {"deals": 3986, "accounts": 43}
    assert top["lift"]["won_value"] == pytest.approx(1.22, abs=0.02)
    # The data has no churn dates, so lifetime value equals won value.
    assert top["lift"]["lifetime_value"] == top["lift"]["won_value"]
    assert top["lift"]["win_rate"] == pytest.approx(1.0, abs=0.02)


def test_real_data_criteria_all_lift_won_value(profile):
    assert sum(criterion["weight"] for criterion in profile.criteria) == 100
    for criterion in profile.criteria:
        assert criterion["lift"]["won_value"] > 1
        assert criterion["support"]["accounts"] >= 5


def test_real_data_tiers_order_mean_won_value(profile):
    tiers = profile.metrics["tiers"]
    mean = {tier: tiers[tier]["mean_won_value"] for tier in "ABCD"}

    assert mean["A"] > mean["B"] > mean["C"]
    assert mean["A"] > 1.5 * mean["D"]
    # In this data tier D's mean is a little above tier C's: the lowest scores mix
    # small accounts with a few large ones that match no criterion.
    assert mean["D"] == pytest.approx(mean["C"], rel=0.1)
    assert sum(tier["accounts"] for tier in tiers.values()) == CRM_ACCOUNTS
    assert sum(tier["closed_deals"] for tier in tiers.values()) == 6711
    assert all(tier["churn_rate"] is None for tier in tiers.values())


def test_real_data_win_rate_flat_across_tiers(profile):
    rates = [profile.metrics["tiers"][tier]["win_rate"] for tier in "ABCD"]

    assert max(rates) - min(rates) < 0.03


def test_real_data_coverage_adds_up(profile):
    crm = demo_accounts().rename(columns={"account_id": "id"})
    inc5000 = list(csv.DictReader(io.StringIO(sources.inc5000_accounts_csv().decode())))
    rows = crm.to_dict("records") + [
        {"id": row["external_id"], **{field: row[field] or None for field in INC5000_FIELDS}}
        for row in inc5000
    ]

    tiers = score_frame(accounts_frame(rows), profile.criteria, profile.tier_cutoffs)["tier"]
    coverage = tier_shares(tiers)

    assert sum(tier["accounts"] for tier in coverage.values()) == len(rows)
    assert sum(tier["share"] for tier in coverage.values()) == pytest.approx(1.0, abs=0.001)
    crm_tiers = tiers.iloc[: len(crm)].value_counts().to_dict()
    trained = {tier: figures["accounts"] for tier, figures in profile.metrics["tiers"].items()}
    assert {tier: crm_tiers.get(tier, 0) for tier in "ABCD"} == trained


def test_real_data_value_weighting_keeps_the_verdict(deals, profile):
    weighted = learn_profile(deals, weighting="value")

    assert weighted.metrics["weighting"] == "value"
    assert weighted.objective == "won_value"
    assert weighted.metrics["cv_auc_won"]["mean"] < 0.55
    assert weighted.criteria[0]["field"] == "annual_revenue"
    # Won deals weigh more than lost ones, so the weighted win rate is higher.
    assert weighted.metrics["tiers"]["A"]["win_rate"] > profile.metrics["tiers"]["A"]["win_rate"]
    assert "weighted by their amount" in weighted.summary
