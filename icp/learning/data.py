"""Closed-deal input of the learner: cleaning, counts and the per-account table."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from tenancy.errors import DomainError

MIN_CLOSED_DEALS = 40


MIN_WON_DEALS = 10


MIN_LOST_DEALS = 10


MIN_ACCOUNTS = 15


CATEGORY_FEATURES = ("industry", "country")


# Skewed counts and amounts are modelled on a log scale, the founding year as is.
LOG_FEATURES = ("employees", "annual_revenue")


LINEAR_FEATURES = ("year_established",)


NUMERIC_FEATURES = LOG_FEATURES + LINEAR_FEATURES


MISSING = "(missing)"


OTHER = "(other)"


class InsufficientData(DomainError):
    """Too few closed deals or accounts to learn an ICP from."""

    code = "insufficient_data"


def prepare_deals(deals: pd.DataFrame) -> pd.DataFrame:
    frame = deals.loc[deals["account_id"].notna()].copy()
    frame["won"] = frame["won"].astype(bool)
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce").astype(float).fillna(0.0)
    frame["close_date"] = pd.to_datetime(frame["close_date"], errors="coerce")
    churned_on = frame.get("churned_on", pd.Series(pd.NaT, index=frame.index))
    frame["churned_on"] = pd.to_datetime(churned_on, errors="coerce")
    for feature in CATEGORY_FEATURES:
        text = frame.get(feature, pd.Series(index=frame.index, dtype="object"))
        text = text.astype("string").str.strip().str.casefold()
        cleaned = text.mask(text == "")
        frame[feature] = cleaned.astype("object").where(cleaned.notna(), np.nan)
    for feature in NUMERIC_FEATURES:
        values = frame.get(feature, pd.Series(index=frame.index, dtype="float64"))
        frame[feature] = pd.to_numeric(values, errors="coerce").astype("float64")
    return frame.reset_index(drop=True)


def deal_counts(deals: pd.DataFrame) -> dict:
    won = int(deals["won"].sum())
    return {
        "closed": len(deals),
        "won": won,
        "lost": len(deals) - won,
        "accounts": int(deals["account_id"].nunique()),
    }


def check_enough(deals: pd.DataFrame) -> None:
    counts = deal_counts(deals)
    needed = {"closed": MIN_CLOSED_DEALS, "won": MIN_WON_DEALS, "lost": MIN_LOST_DEALS}
    needed["accounts"] = MIN_ACCOUNTS
    short = [name for name, minimum in needed.items() if counts[name] < minimum]
    if not short:
        return
    have = ", ".join(f"{counts[name]} {name}" for name in needed)
    want = ", ".join(f"{needed[name]} {name}" for name in needed)
    raise InsufficientData(
        f"Too few closed deals to learn an ICP: found {have}, and learning needs at least "
        f"{want} (short on {', '.join(short)}).",
        field="deals",
        value=counts,
        fix="Import more won and lost deals with their accounts, or write the ICP by hand.",
    )


def check_enough_target(deals: pd.DataFrame, churned: int) -> None:
    """Raise InsufficientData when counting churned wins as lost leaves too few wins."""
    won = int(deals["won"].sum())
    if won >= MIN_WON_DEALS:
        return
    raise InsufficientData(
        f"Too few won deals to learn an ICP: {won} won deals remain after counting "
        f"{churned} churned wins as lost, and learning needs at least {MIN_WON_DEALS}.",
        field="deals",
        value={"won": won, "churned_wins": churned},
        fix="Learn with the value weighting, which keeps churned wins, or import more deals.",
    )


def accounts_table(deals: pd.DataFrame) -> pd.DataFrame:
    """Return one row per account: its features, deal counts, won and lifetime value.

    `deals` carries the columns `icp.learning.weighting.apply_weighting` adds, and
    `won` is the learning target, so under churn weighting churned wins count neither
    in `won_deals` nor in `won_value`. `weighted_closed` and `weighted_won` sum the
    deals' sample weights. `customer` is True when the account has a recorded win.
    """
    with_value = deals.assign(
        won_amount=deals["amount"].where(deals["won"], 0.0),
        weighted_won=deals["weight"].where(deals["won"], 0.0),
    )
    grouped = with_value.groupby("account_id", sort=True)
    accounts = grouped[list(CATEGORY_FEATURES + NUMERIC_FEATURES)].first()
    accounts["closed_deals"] = grouped.size()
    accounts["won_deals"] = grouped["won"].sum().astype(int)
    accounts["won_value"] = grouped["won_amount"].sum()
    accounts["weighted_closed"] = grouped["weight"].sum()
    accounts["weighted_won"] = grouped["weighted_won"].sum()
    accounts["lifetime_value"] = grouped["lifetime_value"].sum()
    accounts["customer"] = grouped["won_recorded"].any()
    accounts["churned"] = grouped["churned_on"].first().notna()
    return accounts


def usable_features(frame: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    def present(names):
        return [name for name in names if frame[name].notna().any()]

    return present(CATEGORY_FEATURES), present(LOG_FEATURES), present(LINEAR_FEATURES)


def iso_date(value) -> str | None:
    return None if pd.isna(value) else value.date().isoformat()


def as_date(value) -> datetime.date | None:
    return None if pd.isna(value) else value.date()
