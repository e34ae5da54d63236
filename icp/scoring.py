"""Score accounts against ICP criteria, vectorised over a pandas frame.

A criterion is a dict with `key`, `label`, `field`, `kind` and `weight`. Kind
"category" matches when the account's value is in `values` (case-insensitive).
Kind "range" matches when `min <= value < max`, and either bound may be None. An
account with no value for the field never matches, so it earns none of that
criterion's weight.

An account's score is the integer 0-100 given by the matched weight over the total
weight, rounded half up. Its tier is the highest of A, B and C whose cut-off the
score reaches, otherwise D. `validate_criteria` and `validate_tier_cutoffs` check
hand-written versions before they are stored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from tenancy.errors import DomainError

# Account fields a criterion may test, by the criterion kind that can test them.
CATEGORY_FIELDS = ("industry", "country", "region")
RANGE_FIELDS = ("employees", "annual_revenue", "year_established")
FRAME_COLUMNS = ("id", *CATEGORY_FIELDS, *RANGE_FIELDS, "tech_stack")
TIERS = ("A", "B", "C")
LOWEST_TIER = "D"

FIELD_LABELS = {
    "industry": "Industry",
    "country": "Country",
    "region": "Region",
    "employees": "Employees",
    "annual_revenue": "Annual revenue",
    "year_established": "Year established",
}


def accounts_frame(rows) -> pd.DataFrame:
    """Build the scoring frame from an Account queryset, Account objects or dicts.

    Blank or whitespace-only strings become missing values (pd.NA), and numbers become
    floats with NaN for missing values, so each column has one kind of missing value.
    """
    if hasattr(rows, "values") and hasattr(rows, "model"):
        records = list(rows.values(*FRAME_COLUMNS))
    else:
        records = [_account_record(row) for row in rows]

    frame = pd.DataFrame.from_records(records, columns=list(FRAME_COLUMNS))
    for field in CATEGORY_FIELDS:
        text = frame[field].astype("string").str.strip()
        frame[field] = text.mask(text == "")
    for field in RANGE_FIELDS:
        frame[field] = pd.to_numeric(frame[field], errors="coerce").astype("float64")
    return frame


def _account_record(row) -> dict:
    if isinstance(row, dict):
        return {column: row.get(column) for column in FRAME_COLUMNS}
    return {column: getattr(row, column, None) for column in FRAME_COLUMNS}


def _match_category(column: pd.Series, criterion: dict) -> np.ndarray:
    accepted = {str(value).strip().casefold() for value in criterion["values"]}
    text = column.astype("string").str.strip().str.casefold()
    return text.isin(accepted).fillna(False).to_numpy(dtype=bool)


def _match_range(column: pd.Series, criterion: dict) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64")
    matched = ~np.isnan(values)
    if criterion.get("min") is not None:
        matched &= values >= float(criterion["min"])
    if criterion.get("max") is not None:
        matched &= values < float(criterion["max"])
    return matched


# Evaluators by criterion kind: each takes the field's column and the criterion and
# returns a boolean array that is False wherever the value is missing.
# A new kind also needs a validator in VALIDATORS.
# TODO: add tech stack kinds (any, all, at least N), triggers with recency and
# knock-outs.
EVALUATORS: dict[str, Callable[[pd.Series, dict], np.ndarray]] = {
    "category": _match_category,
    "range": _match_range,
}
FIELDS_BY_KIND = {"category": CATEGORY_FIELDS, "range": RANGE_FIELDS}


def criterion_matches(frame: pd.DataFrame, criterion: dict) -> np.ndarray:
    """Return a boolean array: whether each row of `frame` meets `criterion`."""
    evaluator = EVALUATORS[criterion["kind"]]
    return evaluator(frame[criterion["field"]], criterion)


def score_frame(frame: pd.DataFrame, criteria: list[dict], tier_cutoffs: dict) -> pd.DataFrame:
    """Score every row of `frame` and return a frame with `score` and `tier` columns.

    The result has the same index as `frame`. With no criteria, or a total weight
    of zero, every score is 0.
    """
    total_weight = sum(int(criterion["weight"]) for criterion in criteria)
    points = np.zeros(len(frame), dtype="int64")
    for criterion in criteria:
        points += criterion_matches(frame, criterion).astype("int64") * int(criterion["weight"])

    if total_weight > 0:
        # Integer arithmetic rounds halves up exactly: 100 × points / total, + 0.5.
        scores = (200 * points + total_weight) // (2 * total_weight)
    else:
        scores = np.zeros(len(frame), dtype="int64")
    return pd.DataFrame(
        {"score": scores, "tier": tiers_for(scores, tier_cutoffs)}, index=frame.index
    )


def tiers_for(scores: np.ndarray, tier_cutoffs: dict) -> np.ndarray:
    """Return the tier letter of each score in an integer array."""
    conditions = [scores >= tier_cutoffs[tier] for tier in TIERS]
    return np.select(conditions, list(TIERS), default=LOWEST_TIER)


def tier_for(score: int, tier_cutoffs: dict) -> str:
    """Return the tier of one score: the first of A, B, C whose cut-off it reaches, else D."""
    for tier in TIERS:
        if score >= tier_cutoffs[tier]:
            return tier
    return LOWEST_TIER


def explain(account, criteria: list[dict], tier_cutoffs: dict) -> dict:
    """Score one account and list, per criterion, whether it matched and on what value.

    `account` is an Account or a dict of its fields. Each breakdown row has `missing`
    True when the account has no value for the criterion's field.
    """
    frame = accounts_frame([account])
    scored = score_frame(frame, criteria, tier_cutoffs)
    breakdown = []
    for criterion in criteria:
        value = frame.at[0, criterion["field"]]
        missing = bool(pd.isna(value))
        breakdown.append(
            {
                "key": criterion["key"],
                "label": criterion.get("label") or criterion_label(criterion),
                "field": criterion["field"],
                "weight": criterion["weight"],
                "matched": bool(criterion_matches(frame, criterion)[0]),
                "value": None if missing else _plain_value(value, criterion["field"]),
                "missing": missing,
            }
        )
    return {
        "score": int(scored.at[0, "score"]),
        "tier": str(scored.at[0, "tier"]),
        "breakdown": breakdown,
    }


def _plain_value(value, field: str):
    # JSON-friendly: whole numbers as int, revenue as float, text as str.
    if field in RANGE_FIELDS:
        number = float(value)
        return int(number) if field != "annual_revenue" and number.is_integer() else number
    return str(value)


def criterion_label(criterion: dict) -> str:
    """Describe a criterion in words, such as "Employees 1,000 to 5,000"."""
    name = FIELD_LABELS.get(criterion["field"], criterion["field"])
    if criterion["kind"] == "category":
        return f"{name}: {', '.join(str(value) for value in criterion['values'])}"

    low, high = criterion.get("min"), criterion.get("max")
    low_text = _format_bound(low, criterion["field"])
    high_text = _format_bound(high, criterion["field"])
    if low is not None and high is not None:
        return f"{name} {low_text} to {high_text}"
    if low is not None:
        return f"{name} {low_text} or more"
    if high is not None:
        before = "before" if criterion["field"] == "year_established" else "under"
        return f"{name} {before} {high_text}"
    return f"{name} any value"


def _format_bound(value, field: str) -> str:
    if value is None:
        return ""
    if field == "year_established":
        return str(int(value))
    if field == "annual_revenue":
        return _format_money(float(value))
    return f"{float(value):,.0f}"


def _format_money(amount: float) -> str:
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(amount) >= scale:
            return f"${amount / scale:,.3g}{suffix}"
    return f"${amount:,.0f}"


def round_edge(value: float, field: str) -> float:
    """Round a bin edge to a readable number: whole years, else two significant digits."""
    if field == "year_established" or value == 0 or not math.isfinite(value):
        return float(round(value))
    digits = 1 - int(math.floor(math.log10(abs(value))))
    return float(round(value, digits))


def tier_shares(tiers: Iterable[str]) -> dict:
    """Count the accounts per tier and their share of the total, for every tier."""
    series = pd.Series(list(tiers), dtype="object")
    counts = series.value_counts()
    total = int(len(series))
    return {
        tier: {
            "accounts": int(counts.get(tier, 0)),
            "share": round(int(counts.get(tier, 0)) / total, 4) if total else 0.0,
        }
        for tier in (*TIERS, LOWEST_TIER)
    }


def validate_criteria(criteria) -> list[dict]:
    """Return cleaned copies of hand-written criteria, or raise DomainError.

    The error names the first invalid criterion by key (or position), the value and
    the fix. Labels left blank are generated.
    """
    if not isinstance(criteria, list) or not criteria:
        raise DomainError(
            "An ICP version needs at least one criterion.",
            field="criteria",
            value=criteria,
            fix="Add a criterion with a key, field, kind and weight.",
        )
    cleaned = []
    keys = set()
    for position, criterion in enumerate(criteria, start=1):
        result = _validate_criterion(criterion, position)
        key = result["key"]
        if key in keys:
            raise _criterion_error(
                key, "key", key, "is used by two criteria.", "Give each criterion its own key."
            )
        keys.add(key)
        cleaned.append(result)
    return cleaned


def _criterion_error(key: str, part: str, value, problem: str, fix: str) -> DomainError:
    """Build the error for one part of criterion `key`; `problem` completes the sentence."""
    return DomainError(
        f"Criterion {key!r} is invalid: {part} {value!r} {problem}",
        field=f"criteria.{key}.{part}",
        value=value,
        fix=fix,
    )


def _validate_criterion(criterion, position: int) -> dict:
    """Return a cleaned copy of one hand-written criterion, or raise DomainError."""
    if not isinstance(criterion, dict):
        raise DomainError(
            f"Criterion {position} is invalid: it is not an object.",
            field=f"criteria.{position}",
            value=criterion,
            fix="Write each criterion as an object with key, field, kind and weight.",
        )
    key = criterion.get("key")
    if not isinstance(key, str) or not key.strip():
        raise DomainError(
            f"Criterion {position} is invalid: its key is missing.",
            field=f"criteria.{position}.key",
            value=key,
            fix="Give the criterion a short unique key such as 'employees'.",
        )
    key = key.strip()

    kind = criterion.get("kind")
    if kind not in EVALUATORS:
        kinds = ", ".join(EVALUATORS)
        raise _criterion_error(key, "kind", kind, "is not a known kind.", f"Use one of {kinds}.")
    field = criterion.get("field")
    if field not in FIELDS_BY_KIND[kind]:
        fields = ", ".join(FIELDS_BY_KIND[kind])
        raise _criterion_error(
            key,
            "field",
            field,
            f"is not an account field that kind {kind!r} can test.",
            f"Use one of {fields}.",
        )
    weight = criterion.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int) or weight <= 0:
        raise _criterion_error(
            key, "weight", weight, "is not a positive integer.", "Use a whole number of points."
        )

    cleaned = {"key": key, "field": field, "kind": kind, "weight": weight}
    cleaned.update(VALIDATORS[kind](key, criterion))
    label = criterion.get("label")
    if isinstance(label, str) and label.strip():
        cleaned["label"] = label.strip()
    else:
        cleaned["label"] = criterion_label(cleaned)
    return cleaned


def _validate_category(key: str, criterion: dict) -> dict:
    values = criterion.get("values")
    if not isinstance(values, list) or not values:
        raise _criterion_error(
            key, "values", values, "is not a non-empty list.", "List at least one value to match."
        )
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise _criterion_error(
                key, "values", value, "is blank or not text.", "Remove the value or write it out."
            )
    return {"values": [value.strip() for value in values]}


def _validate_range(key: str, criterion: dict) -> dict:
    low, high = criterion.get("min"), criterion.get("max")
    for part, bound in (("min", low), ("max", high)):
        if bound is None:
            continue
        if (
            isinstance(bound, bool)
            or not isinstance(bound, int | float)
            or not math.isfinite(bound)
        ):
            fix = f"Give {part} as a finite number, or leave it empty for an open range."
            raise _criterion_error(key, part, bound, "is not a finite number.", fix)
    if low is None and high is None:
        raise DomainError(
            f"Criterion {key!r} is invalid: min and max are both empty.",
            field=f"criteria.{key}.min",
            value=None,
            fix="Give min, max or both.",
        )
    if low is not None and high is not None and low >= high:
        raise _criterion_error(
            key, "min", low, f"is not below max {high!r}.", "Make min smaller than max."
        )
    return {"min": low, "max": high}


def validate_tier_cutoffs(tier_cutoffs) -> dict[str, int]:
    """Return the A, B and C cut-offs when they are integers with 100 >= A > B > C >= 0."""
    if not isinstance(tier_cutoffs, dict) or set(tier_cutoffs) != set(TIERS):
        raise DomainError(
            "Tier cut-offs need exactly the keys A, B and C.",
            field="tier_cutoffs",
            value=tier_cutoffs,
            fix='Give the lowest score of each tier, such as {"A": 75, "B": 50, "C": 25}.',
        )
    for tier in TIERS:
        value = tier_cutoffs[tier]
        if isinstance(value, bool) or not isinstance(value, int):
            raise DomainError(
                f"Tier cut-off {tier} {value!r} is not an integer.",
                field=f"tier_cutoffs.{tier}",
                value=value,
                fix="Use a whole score from 0 to 100.",
            )
    a_cutoff, b_cutoff, c_cutoff = (tier_cutoffs[tier] for tier in TIERS)
    if not 100 >= a_cutoff > b_cutoff > c_cutoff >= 0:
        raise DomainError(
            f"Tier cut-offs A {a_cutoff}, B {b_cutoff}, C {c_cutoff} are not in order.",
            field="tier_cutoffs",
            value=tier_cutoffs,
            fix="Use 100 >= A > B > C >= 0.",
        )
    return {tier: tier_cutoffs[tier] for tier in TIERS}


# Validators of hand-written criteria by kind: each returns the kind's cleaned fields.
VALIDATORS = {"category": _validate_category, "range": _validate_range}
