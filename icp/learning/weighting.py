"""How much each closed deal counts when learning, and what a won deal is worth net of churn.

Three weightings are offered:

- "none": every closed deal counts once, as recorded.
- "value": a won deal counts by its amount relative to the median amount of the won
  deals with an amount, clipped to [MIN_VALUE_WEIGHT, MAX_VALUE_WEIGHT], so one huge
  deal cannot dominate. Lost deals and won deals without a positive amount count 1.
- "value_and_churn": value weighting, and a churned win counts as not won, keeping
  its value weight. A customer who leaves soon after buying is not an ICP win.

A churned win is a won deal whose account has a churn date no later than
CHURN_WINDOW_DAYS after the deal's close date. That includes a churn date before the
close date, and a won deal without a close date on a churned account.

Lifetime value is the won amount net of churn: amount × min(1, days from close to
churn / LIFETIME_DAYS), with the days clipped at 0, and the full amount when the
account has not churned. A won deal on a churned account without a close date is
worth 0. Lifetime value is always computed from the recorded wins, whatever the
weighting.
"""

from __future__ import annotations

import pandas as pd

from tenancy.errors import DomainError

WEIGHTING_NONE = "none"
WEIGHTING_VALUE = "value"
WEIGHTING_VALUE_AND_CHURN = "value_and_churn"

WEIGHTING_LABELS = {
    WEIGHTING_NONE: "None (every closed deal counts once)",
    WEIGHTING_VALUE: "By value (won deals count by their amount)",
    WEIGHTING_VALUE_AND_CHURN: "By value, with wins that churned within a year counted as lost",
}

WEIGHTINGS = tuple(WEIGHTING_LABELS)

MIN_VALUE_WEIGHT = 0.2

MAX_VALUE_WEIGHT = 5.0

CHURN_WINDOW_DAYS = 365

LIFETIME_DAYS = 365


def validate_weighting(weighting) -> str:
    """Return `weighting` when it is one of WEIGHTINGS, else raise DomainError."""
    if weighting in WEIGHTINGS:
        return weighting
    raise DomainError(
        f"Weighting {weighting!r} is invalid: it must be one of {', '.join(WEIGHTINGS)}.",
        field="weighting",
        value=weighting,
        fix=f"Use one of {', '.join(WEIGHTINGS)}.",
    )


def churned_wins(deals: pd.DataFrame) -> pd.Series:
    """Flag the recorded wins whose account churned within CHURN_WINDOW_DAYS of the close."""
    # NOTE: an account stores one churn date, so a customer won back after churning
    # cannot be distinguished: its later wins count as churned wins too.
    churned_on = deals["churned_on"]
    latest = deals["close_date"] + pd.Timedelta(days=CHURN_WINDOW_DAYS)
    within = (churned_on <= latest) | deals["close_date"].isna()
    return deals["won"] & churned_on.notna() & within


def lifetime_values(deals: pd.DataFrame) -> pd.Series:
    """Return each deal's won amount net of churn, and 0 for lost deals."""
    active_days = (deals["churned_on"] - deals["close_date"]).dt.days.clip(lower=0)
    share = (active_days / LIFETIME_DAYS).clip(upper=1.0).fillna(0.0)
    share = share.where(deals["churned_on"].notna(), 1.0)
    return deals["amount"].where(deals["won"], 0.0) * share


def value_weights(deals: pd.DataFrame) -> pd.Series:
    """Return each priced win's amount over the median won amount, clipped, else 1."""
    priced_win = deals["won"] & (deals["amount"] > 0)
    if not priced_win.any():
        return pd.Series(1.0, index=deals.index)
    median = float(deals.loc[priced_win, "amount"].median())
    ratio = (deals["amount"] / median).clip(MIN_VALUE_WEIGHT, MAX_VALUE_WEIGHT)
    return ratio.where(priced_win, 1.0).astype(float)


def apply_weighting(deals: pd.DataFrame, weighting: str) -> pd.DataFrame:
    """Add the learning target and sample weight of each deal under `weighting`.

    `won` becomes the outcome the learner uses and `won_recorded` keeps the deal's
    stage. Also added: `churned_win`, `weight` and `lifetime_value`.
    """
    frame = deals.copy()
    frame["won_recorded"] = frame["won"]
    frame["churned_win"] = churned_wins(frame)
    frame["lifetime_value"] = lifetime_values(frame)
    if weighting == WEIGHTING_NONE:
        frame["weight"] = 1.0
    else:
        frame["weight"] = value_weights(frame)
    if weighting == WEIGHTING_VALUE_AND_CHURN:
        frame["won"] = frame["won"] & ~frame["churned_win"]
    return frame


def weighted_rate(won: pd.Series, weights: pd.Series) -> float:
    """Return the weighted share of won deals, or NaN when there is no weight."""
    total = float(weights.sum())
    if total <= 0:
        return float("nan")
    return float((won.astype(float) * weights).sum()) / total


def weighting_sentence(weighting: str, churned: int) -> str:
    """Describe the weighting and the churned wins in a few sentences for the summary."""
    if weighting == WEIGHTING_NONE:
        text = "Every closed deal counts once."
    else:
        text = (
            "Won deals are weighted by their amount over the median won amount, clipped to "
            f"{MIN_VALUE_WEIGHT:g}–{MAX_VALUE_WEIGHT:g}."
        )
    churn_fact = f"Won deals whose account churned within {CHURN_WINDOW_DAYS} days: {churned:,}."
    if weighting == WEIGHTING_VALUE_AND_CHURN:
        return f"{text} {churn_fact} They count as lost." if churned else f"{text} {churn_fact}"
    if churned:
        return (
            f"{text} {churn_fact} They still count as won: learn with value and churn "
            "weighting to count them as lost."
        )
    return text


def account_churn_rate(churned: pd.Series, has_win: pd.Series) -> float | None:
    """Return the share of accounts with a recorded win that churned, or None without any."""
    customers = int(has_win.sum())
    if customers == 0:
        return None
    return float((churned & has_win).sum()) / customers
