"""Learn readable ICP criteria from closed deals and report how far they can be trusted.

`learn_profile` takes one row per closed deal joined to its account's features and
cross-validates two questions. The first is whether the firmographics separate won
deals from lost ones. The second is whether they separate the accounts that brought
the most won value from the rest. It picks the outcome that carries signal and
turns it into weighted criteria that `icp.scoring` can apply. Everything is
deterministic: folds, models and permutations use a fixed random state.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pandas as pd

from icp.learning.criteria import (
    choose_tier_cutoffs,
    cross_validate_criteria,
    learn_criteria,
    tier_metrics,
)
from icp.learning.data import (
    InsufficientData,
    accounts_table,
    as_date,
    check_enough,
    deal_counts,
    iso_date,
    prepare_deals,
)
from icp.learning.summary import write_summary
from icp.learning.validation import (
    choose_objective,
    cross_validate_value,
    cross_validate_won,
    spearman_with_won_value,
)
from icp.scoring import score_frame

__all__ = ["InsufficientData", "LearnedProfile", "learn_profile"]


@dataclass(frozen=True)
class LearnedProfile:
    """Criteria, tier cut-offs and validation figures learned from closed deals."""

    objective: str
    signal: str
    summary: str
    criteria: list[dict]
    tier_cutoffs: dict
    metrics: dict
    trained_from: datetime.date | None
    trained_to: datetime.date | None


def learn_profile(deals: pd.DataFrame) -> LearnedProfile:
    """Learn an ICP from closed deals and return criteria, cut-offs and metrics.

    `deals` has one row per closed deal with `account_id`, `won` (bool), `amount`,
    `close_date` and the account's `industry`, `country`, `employees`,
    `annual_revenue` and `year_established`. Raises InsufficientData when there are
    too few deals, won deals, lost deals or accounts.
    """
    deals = prepare_deals(deals)
    check_enough(deals)
    accounts = accounts_table(deals)

    cv_won = cross_validate_won(deals)
    cv_value = cross_validate_value(accounts)
    spearman = spearman_with_won_value(accounts)
    objective, signal = choose_objective(cv_won, cv_value)

    criteria = learn_criteria(deals, accounts, objective)
    scores = score_frame(accounts, criteria, {"A": 101, "B": 101, "C": 101})["score"]
    tier_cutoffs = choose_tier_cutoffs(scores.to_numpy())
    accounts["tier"] = score_frame(accounts, criteria, tier_cutoffs)["tier"]

    metrics = {
        "objective": objective,
        "counts": deal_counts(deals),
        "cv_auc_won": cv_won,
        "cv_auc_value": cv_value,
        "cv_auc_criteria": cross_validate_criteria(deals, accounts, objective),
        "spearman": spearman,
        "tiers": tier_metrics(accounts),
        "tier_basis": "in-sample scores of the training accounts",
        "trained_from": iso_date(deals["close_date"].min()),
        "trained_to": iso_date(deals["close_date"].max()),
    }
    return LearnedProfile(
        objective=objective,
        signal=signal,
        summary=write_summary(objective, signal, cv_won, cv_value, spearman),
        criteria=criteria,
        tier_cutoffs=tier_cutoffs,
        metrics=metrics,
        trained_from=as_date(deals["close_date"].min()),
        trained_to=as_date(deals["close_date"].max()),
    )
