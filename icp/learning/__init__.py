"""Learn readable ICP criteria from closed deals and report how far they can be trusted.

`learn_profile` takes one row per closed deal joined to its account's features and
cross-validates two questions. The first is whether the firmographics separate won
deals from lost ones. The second is whether they separate the accounts that brought
the most won value from the rest. It picks the outcome that carries signal and
turns it into weighted criteria that `icp.scoring` can apply. A weighting, described
in `icp.learning.weighting`, decides how much each deal counts and whether churned
wins count as won. Everything is deterministic: folds, models and permutations use a
fixed random state.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
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
    check_enough_target,
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
from icp.learning.weighting import (
    WEIGHTING_NONE,
    WEIGHTINGS,
    apply_weighting,
    validate_weighting,
    weighting_sentence,
)
from icp.scoring import score_frame

__all__ = ["PROFILE_STEPS", "WEIGHTINGS", "InsufficientData", "LearnedProfile", "learn_profile"]

# The stages `learn_profile` reports to its progress callback, in order.
PROFILE_STEPS = (
    "Checking the closed deals",
    "Cross-validating won vs lost",
    "Cross-validating won value per account",
    "Learning criteria",
    "Cross-validating the criteria",
    "Choosing tier cut-offs",
)

# Called with (steps done, total steps, stage now starting).
Progress = Callable[[int, int, str], None]


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


def learn_profile(
    deals: pd.DataFrame, *, weighting: str = WEIGHTING_NONE, progress: Progress | None = None
) -> LearnedProfile:
    """Learn an ICP from closed deals and return criteria, cut-offs and metrics.

    `deals` has one row per closed deal with `account_id`, `won` (bool), `amount`,
    `close_date` and the account's `industry`, `country`, `employees`,
    `annual_revenue`, `year_established` and, optionally, `churned_on`. `weighting`
    is one of WEIGHTINGS. `progress`, when given, is called as progress(done, total,
    stage) before each of PROFILE_STEPS and once more with done == total at the end.

    Raises DomainError for an unknown weighting, and InsufficientData when there are
    too few deals, won deals, lost deals or accounts, or too few wins once churned
    wins count as lost.
    """
    weighting = validate_weighting(weighting)
    report = _reporter(progress)

    report(0)
    deals = prepare_deals(deals)
    check_enough(deals)
    counts = deal_counts(deals)
    deals = apply_weighting(deals, weighting)
    churned = int(deals["churned_win"].sum())
    check_enough_target(deals, churned)
    accounts = accounts_table(deals)

    report(1)
    cv_won = cross_validate_won(deals)
    report(2)
    cv_value = cross_validate_value(accounts)
    spearman = spearman_with_won_value(accounts)
    objective, signal = choose_objective(cv_won, cv_value)

    report(3)
    criteria = learn_criteria(deals, accounts, objective)
    report(4)
    cv_criteria = cross_validate_criteria(deals, accounts, objective)

    report(5)
    scores = score_frame(accounts, criteria, {"A": 101, "B": 101, "C": 101})["score"]
    tier_cutoffs = choose_tier_cutoffs(scores.to_numpy())
    accounts["tier"] = score_frame(accounts, criteria, tier_cutoffs)["tier"]

    metrics = {
        "objective": objective,
        "weighting": weighting,
        "counts": counts,
        "churned_wins": churned,
        "cv_auc_won": cv_won,
        "cv_auc_value": cv_value,
        "cv_auc_criteria": cv_criteria,
        "spearman": spearman,
        "tiers": tier_metrics(accounts, churn_known=bool(accounts["churned"].any())),
        "tier_basis": "in-sample scores of the training accounts",
        "trained_from": iso_date(deals["close_date"].min()),
        "trained_to": iso_date(deals["close_date"].max()),
    }
    summary = write_summary(objective, signal, cv_won, cv_value, spearman)
    report(len(PROFILE_STEPS))
    return LearnedProfile(
        objective=objective,
        signal=signal,
        summary=f"{summary} {weighting_sentence(weighting, churned)}",
        criteria=criteria,
        tier_cutoffs=tier_cutoffs,
        metrics=metrics,
        trained_from=as_date(deals["close_date"].min()),
        trained_to=as_date(deals["close_date"].max()),
    )


def _reporter(progress: Progress | None) -> Callable[[int], None]:
    total = len(PROFILE_STEPS)

    def report(done: int) -> None:
        if progress is None:
            return
        stage = PROFILE_STEPS[done] if done < total else "Learned the criteria and cut-offs"
        progress(done, total, stage)

    return report
