"""Score accounts against ICP criteria, vectorised over a pandas frame.

A criterion is a dict with `key`, `label`, `kind`, `field` and `weight`. Kinds:

- "category": the account's value is in `values` (case-insensitive).
- "range": `min <= value < max` over a numeric account field; either bound may be None.
- "tech_stack": the account's technologies contain `values` by `match`: "any" of
  them, "all" of them, or "at_least" `count` of them.
- "trigger": the account's buying trigger named `trigger` (such as "funding")
  happened on or before the scoring date and at most `within_days` days before it.
- "willingness_to_pay": a range over the account's stated `budget` or its
  `deal_size` (the largest open or won deal).

An account with no value for the field never matches. A criterion with
`knockout` True earns no points: an account that matches it scores 0 and is tier
D whatever else it matches. With `negate` True, a criterion matches accounts that
have a value and fail the test, so "country not in US, CA" is a category criterion
with negate.

An account's score is the integer 0-100 given by the matched weight over the total
weight of the criteria that are not knock-outs, rounded half up. Its tier is the
highest of A, B and C whose cut-off the score reaches, otherwise D.
`validate_criteria` and `validate_tier_cutoffs` check hand-written versions
before they are stored.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from tenancy.errors import DomainError

# Account fields a criterion may test, by the criterion kind that can test them.
CATEGORY_FIELDS = ("industry", "country", "region")
RANGE_FIELDS = ("employees", "annual_revenue", "year_established")
# Willingness to pay: the account's stated budget, or its largest open or won deal.
PAY_FIELDS = ("budget", "deal_size")
NUMERIC_FIELDS = RANGE_FIELDS + PAY_FIELDS
TECH_FIELD = "tech_stack"
TRIGGER_FIELD = "triggers"
# Columns of an Account row that scoring reads; "deal_size" is computed from deals.
FRAME_COLUMNS = ("id", *CATEGORY_FIELDS, *RANGE_FIELDS, "budget", TECH_FIELD, TRIGGER_FIELD)
TIERS = ("A", "B", "C")
LOWEST_TIER = "D"
TECH_MATCHES = ("any", "all", "at_least")
MAX_TRIGGER_DAYS = 3660
# Limits of hand-written versions, so that one request cannot tie up a worker.
MAX_CRITERIA = 100
MAX_VALUES = 1000
MAX_VALUE_LENGTH = 200
MAX_LABEL_LENGTH = 200
MAX_KEY_LENGTH = 60
# Range bounds beyond this are typing errors: no revenue, budget or head count is larger.
MAX_BOUND = 1e15
KEY_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
# Learned evidence a criterion may carry: for each part, True when it is a count.
EVIDENCE_PARTS = {
    "support": {"deals": True, "accounts": True},
    "lift": {"win_rate": False, "won_value": False, "lifetime_value": False},
}
CRITERION_PROPERTIES = frozenset(
    (
        "key",
        "label",
        "kind",
        "field",
        "weight",
        "values",
        "min",
        "max",
        "match",
        "count",
        "trigger",
        "within_days",
        "knockout",
        "negate",
        "support",
        "lift",
    )
)

FIELD_LABELS = {
    "industry": "Industry",
    "country": "Country",
    "region": "Region",
    "employees": "Employees",
    "annual_revenue": "Annual revenue",
    "year_established": "Year established",
    "budget": "Budget",
    "deal_size": "Deal size",
    "tech_stack": "Tech stack",
    "triggers": "Buying trigger",
}
KIND_LABELS = {
    "category": "One of a set of values",
    "range": "Number in a range",
    "tech_stack": "Tech stack",
    "trigger": "Buying trigger with recency",
    "willingness_to_pay": "Willingness to pay",
}


def trigger_column(name: str) -> str:
    """Return the name of the frame column with the date of buying trigger `name`."""
    return f"trigger:{name}"


def normalise_trigger_name(name) -> str:
    return str(name).strip().casefold().replace(" ", "_")


def tech_text(technologies) -> str | None:
    """Encode a list of technologies as "|a|b|" in lower case, or None when empty.

    The encoding lets `str.contains` test membership of one technology across a
    whole column without Python loops; the bulk loader builds the same text in SQL.
    """
    # NaN, pd.NA and other scalars are missing too: pandas turns None into NaN in a
    # column that mixes None with text.
    if not isinstance(technologies, str | list | tuple | set) or not technologies:
        return None
    if isinstance(technologies, str):
        technologies = technologies.replace(",", ";").split(";")
    cleaned = sorted({str(item).strip().casefold() for item in technologies if str(item).strip()})
    cleaned = [item.replace("|", "/") for item in cleaned]
    return f"|{'|'.join(cleaned)}|" if cleaned else None


def accounts_frame(rows, trigger_names: Iterable[str] | None = None) -> pd.DataFrame:
    """Build the scoring frame from an Account queryset, Account objects or dicts.

    Blank or whitespace-only strings become missing values (pd.NA), numbers become
    floats with NaN for missing values, the tech stack becomes "|a|b|" text, and
    each buying trigger becomes a `trigger:<name>` date column (NaT when missing).
    Triggers are extracted for `trigger_names`, or for every name the rows carry.
    """
    if hasattr(rows, "values") and hasattr(rows, "model"):
        records = list(rows.values(*FRAME_COLUMNS))
    else:
        records = [_account_record(row) for row in rows]

    columns = [*FRAME_COLUMNS, "deal_size"]
    frame = pd.DataFrame.from_records(records, columns=columns)
    for field in CATEGORY_FIELDS:
        text = frame[field].astype("string").str.strip()
        frame[field] = text.mask(text == "")
    for field in NUMERIC_FIELDS:
        frame[field] = pd.to_numeric(frame[field], errors="coerce").astype("float64")
    frame[TECH_FIELD] = pd.Series(
        [tech_text(value) for value in frame[TECH_FIELD]], index=frame.index, dtype="string"
    )

    triggers = [value if isinstance(value, dict) else {} for value in frame[TRIGGER_FIELD]]
    if trigger_names is None:
        names = sorted({normalise_trigger_name(name) for value in triggers for name in value})
    else:
        names = sorted({normalise_trigger_name(name) for name in trigger_names})
    for name in names:
        dates = [
            {normalise_trigger_name(key): day for key, day in value.items()}.get(name)
            for value in triggers
        ]
        frame[trigger_column(name)] = pd.to_datetime(
            pd.Series(dates, index=frame.index, dtype="object"), errors="coerce", format="ISO8601"
        )
    return frame.drop(columns=[TRIGGER_FIELD])


def _account_record(row) -> dict:
    columns = (*FRAME_COLUMNS, "deal_size")
    if isinstance(row, dict):
        return {column: row.get(column) for column in columns}
    return {column: getattr(row, column, None) for column in columns}


def frame_trigger_names(criteria: Iterable[dict]) -> list[str]:
    """Return the buying trigger names the criteria test, for loaders that select them."""
    return sorted(
        {normalise_trigger_name(c["trigger"]) for c in criteria if c["kind"] == "trigger"}
    )


def criteria_need_deal_size(criteria: Iterable[dict]) -> bool:
    return any(c.get("field") == "deal_size" for c in criteria)


def _present(column: pd.Series) -> np.ndarray:
    return column.notna().to_numpy(dtype=bool)


def _match_category(column: pd.Series, criterion: dict, as_of) -> np.ndarray:
    accepted = {str(value).strip().casefold() for value in criterion["values"]}
    text = column.astype("string").str.strip().str.casefold()
    return text.isin(accepted).fillna(False).to_numpy(dtype=bool)


def _match_range(column: pd.Series, criterion: dict, as_of) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64")
    matched = ~np.isnan(values)
    if criterion.get("min") is not None:
        matched &= values >= float(criterion["min"])
    if criterion.get("max") is not None:
        matched &= values < float(criterion["max"])
    return matched


def _match_tech_stack(column: pd.Series, criterion: dict, as_of) -> np.ndarray:
    text = column.astype("string")
    hits = np.zeros(len(column), dtype="int64")
    for value in criterion["values"]:
        # Encoded as tech_text encodes an account's technologies, "|" included.
        needle = f"|{str(value).strip().casefold().replace('|', '/')}|"
        hits += text.str.contains(needle, regex=False).fillna(False).to_numpy(dtype=bool)
    needed = {
        "any": 1,
        "all": len(criterion["values"]),
        "at_least": int(criterion.get("count") or 1),
    }[criterion["match"]]
    return hits >= needed


def _match_trigger(column: pd.Series, criterion: dict, as_of) -> np.ndarray:
    dates = pd.to_datetime(column, errors="coerce")
    reference = pd.Timestamp(as_of or datetime.datetime.now(datetime.UTC).date())
    earliest = reference - pd.Timedelta(days=int(criterion["within_days"]))
    matched = (dates >= earliest) & (dates <= reference)
    return matched.fillna(False).to_numpy(dtype=bool)


# Evaluators by criterion kind: each takes the criterion's column, the criterion and
# the scoring date, and returns a boolean array that is False wherever the value is
# missing. A new kind also needs a validator in VALIDATORS.
EVALUATORS: dict[str, Callable[[pd.Series, dict, object], np.ndarray]] = {
    "category": _match_category,
    "range": _match_range,
    "tech_stack": _match_tech_stack,
    "trigger": _match_trigger,
    "willingness_to_pay": _match_range,
}
FIELDS_BY_KIND = {
    "category": CATEGORY_FIELDS,
    "range": RANGE_FIELDS,
    "tech_stack": (TECH_FIELD,),
    "trigger": (TRIGGER_FIELD,),
    "willingness_to_pay": PAY_FIELDS,
}


def criterion_column(criterion: dict) -> str:
    """Name the frame column a criterion reads."""
    if criterion["kind"] == "trigger":
        # Frames name trigger columns by the normalised name, as validate_criteria stores it.
        return trigger_column(normalise_trigger_name(criterion["trigger"]))
    return criterion["field"]


def _column(frame: pd.DataFrame, criterion: dict) -> pd.Series:
    name = criterion_column(criterion)
    if name in frame.columns:
        return frame[name]
    # A trigger no account carries, or a field the frame was built without: all missing.
    return pd.Series(pd.NA, index=frame.index, dtype="object")


def criterion_matches(frame: pd.DataFrame, criterion: dict, as_of=None) -> np.ndarray:
    """Return a boolean array: whether each row of `frame` meets `criterion`.

    `negate` flips the test for rows that have a value; a missing value never matches.
    """
    column = _column(frame, criterion)
    matched = EVALUATORS[criterion["kind"]](column, criterion, as_of)
    if criterion.get("negate"):
        matched = _present(column) & ~matched
    return matched


def is_knockout(criterion: dict) -> bool:
    return bool(criterion.get("knockout"))


def scored_weight(criteria: Iterable[dict]) -> int:
    """Return the total weight of the criteria that earn points (not knock-outs)."""
    return sum(int(c["weight"]) for c in criteria if not is_knockout(c))


def score_frame(
    frame: pd.DataFrame, criteria: list[dict], tier_cutoffs: dict, as_of=None
) -> pd.DataFrame:
    """Score every row of `frame` and return a frame with `score` and `tier` columns.

    The result has the same index as `frame`. With no criteria, or a total weight
    of zero, every score is 0. `as_of` is the date trigger recency counts back from
    (default: today).
    """
    total_weight = scored_weight(criteria)
    points = np.zeros(len(frame), dtype="int64")
    knocked_out = np.zeros(len(frame), dtype=bool)
    for criterion in criteria:
        matched = criterion_matches(frame, criterion, as_of)
        if is_knockout(criterion):
            knocked_out |= matched
        else:
            points += matched.astype("int64") * int(criterion["weight"])

    if total_weight > 0:
        # Integer arithmetic rounds halves up exactly: 100 × points / total, + 0.5.
        scores = (200 * points + total_weight) // (2 * total_weight)
    else:
        scores = np.zeros(len(frame), dtype="int64")
    scores = np.where(knocked_out, 0, scores)
    tiers = np.where(knocked_out, LOWEST_TIER, tiers_for(scores, tier_cutoffs))
    return pd.DataFrame(
        {"score": scores, "tier": tiers, "knocked_out": knocked_out}, index=frame.index
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


def explain(account, criteria: list[dict], tier_cutoffs: dict, as_of=None) -> dict:
    """Score one account and list, per criterion, whether it matched and on what value.

    `account` is an Account or a dict of its fields. Each breakdown row has `missing`
    True when the account has no value for the criterion's field, `points` the
    points it earned, and `knockout` True for a knock-out criterion. The result's
    `knocked_out_by` lists the keys of the knock-outs the account matched, and
    `missing` the labels of criteria the account has no data for.
    """
    frame = accounts_frame([account], trigger_names=frame_trigger_names(criteria))
    scored = score_frame(frame, criteria, tier_cutoffs, as_of)
    total_weight = scored_weight(criteria)
    technologies = _technology_names(_account_record(account)[TECH_FIELD])
    breakdown = []
    for criterion in criteria:
        value = _column(frame, criterion).iloc[0]
        missing = bool(pd.isna(value))
        if criterion["field"] == TECH_FIELD and not missing:
            # Show the technologies as the account spells them, not the matching key.
            value = technologies
        matched = bool(criterion_matches(frame, criterion, as_of)[0])
        knockout = is_knockout(criterion)
        weight = int(criterion["weight"])
        breakdown.append(
            {
                "key": criterion["key"],
                "label": criterion.get("label") or criterion_label(criterion),
                "kind": criterion["kind"],
                "field": criterion["field"],
                "weight": weight,
                "knockout": knockout,
                "matched": matched,
                "points": weight if matched and not knockout else 0,
                "share": round(weight / total_weight, 4) if total_weight and not knockout else 0,
                "value": None if missing else _plain_value(value, criterion),
                "missing": missing,
            }
        )
    return {
        "score": int(scored["score"].iloc[0]),
        "tier": str(scored["tier"].iloc[0]),
        "total_weight": total_weight,
        "earned_points": sum(row["points"] for row in breakdown),
        "knocked_out_by": [row["key"] for row in breakdown if row["knockout"] and row["matched"]],
        "missing": [row["label"] for row in breakdown if row["missing"]],
        "breakdown": breakdown,
    }


def _technology_names(technologies) -> list[str]:
    """Return an account's technologies as written, from a list or ";"-separated text."""
    if isinstance(technologies, str):
        technologies = technologies.replace(",", ";").split(";")
    if not isinstance(technologies, list | tuple | set):
        return []
    return sorted({str(item).strip() for item in technologies if str(item).strip()})


def _plain_value(value, criterion: dict):
    # JSON-friendly: whole numbers as int, money as float, dates as ISO text,
    # technologies as a list, text as str.
    field = criterion["field"]
    if criterion["kind"] == "trigger":
        return pd.Timestamp(value).date().isoformat()
    if field == TECH_FIELD:
        return list(value)
    if field in NUMERIC_FIELDS:
        number = float(value)
        money = field in ("annual_revenue", *PAY_FIELDS)
        return int(number) if not money and number.is_integer() else number
    return str(value)


def criterion_label(criterion: dict) -> str:
    """Describe a criterion in words, such as "Employees 1,000 to 5,000"."""
    text = _test_label(criterion)
    if criterion.get("negate"):
        text = f"Not {text[0].lower()}{text[1:]}"
    if is_knockout(criterion):
        text = f"Knock-out: {text}"
    return text


def _test_label(criterion: dict) -> str:
    kind = criterion["kind"]
    field = criterion.get("field", "")
    name = FIELD_LABELS.get(field, field)
    if kind == "category":
        return f"{name}: {', '.join(str(value) for value in criterion['values'])}"
    if kind == "tech_stack":
        values = ", ".join(str(value) for value in criterion["values"])
        if criterion["match"] == "all":
            return f"Uses all of {values}"
        if criterion["match"] == "at_least":
            return f"Uses at least {criterion['count']} of {values}"
        return f"Uses any of {values}"
    if kind == "trigger":
        trigger = str(criterion["trigger"]).replace("_", " ")
        return f"{trigger.capitalize()} in the last {criterion['within_days']} days"

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
    if field in ("annual_revenue", *PAY_FIELDS):
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
    the fix. Labels left blank are generated. At least one criterion must earn
    points, because knock-outs alone cannot rank accounts.
    """
    if not isinstance(criteria, list) or not criteria:
        raise DomainError(
            "An ICP version needs at least one criterion.",
            field="criteria",
            value=criteria,
            fix="Add a criterion with a key, kind, field and weight.",
        )
    if len(criteria) > MAX_CRITERIA:
        raise DomainError(
            f"An ICP version has at most {MAX_CRITERIA} criteria, and this one has "
            f"{len(criteria):,}.",
            field="criteria",
            value=len(criteria),
            fix="Merge criteria on the same field, or drop the ones with little weight.",
        )
    cleaned = []
    keys = set()
    for position, criterion in enumerate(criteria, start=1):
        result = _validate_criterion(criterion, position)
        key = result["key"]
        if key.casefold() in keys:
            raise _criterion_error(
                key,
                "key",
                key,
                "is used by two criteria (keys ignore case).",
                "Give each criterion its own key.",
            )
        keys.add(key.casefold())
        cleaned.append(result)
    if scored_weight(cleaned) <= 0:
        raise DomainError(
            "Every criterion is a knock-out, so no account could earn points.",
            field="criteria",
            value=[criterion["key"] for criterion in cleaned],
            fix="Add at least one criterion that is not a knock-out, with a positive weight.",
        )
    return cleaned


def _shown(value) -> str:
    """Write a rejected value as JSON spells it (null, true, "text"), cut to 60 characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:
        text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _criterion_error(key: str, part: str, value, problem: str, fix: str) -> DomainError:
    """Build the error for one part of criterion `key`; `problem` completes the sentence."""
    return DomainError(
        f"Criterion {key!r} is invalid: {part} {_shown(value)} {problem}",
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
            fix="Write each criterion as an object with key, kind, field and weight.",
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
    if len(key) > MAX_KEY_LENGTH or not set(key) <= KEY_CHARACTERS:
        raise DomainError(
            f"Criterion {position} is invalid: key {key[:80]!r} is not a short code.",
            field=f"criteria.{position}.key",
            value=key[:80],
            fix=f"Use up to {MAX_KEY_LENGTH} letters, digits, '_' or '-', such as 'employees'.",
        )
    unknown = sorted(str(name) for name in criterion if name not in CRITERION_PROPERTIES)
    if unknown:
        raise _criterion_error(
            key,
            "property",
            unknown[0],
            "is not a criterion property.",
            f"Remove it. Criteria accept {', '.join(sorted(CRITERION_PROPERTIES))}.",
        )

    kind = criterion.get("kind")
    if not isinstance(kind, str) or kind not in EVALUATORS:
        kinds = ", ".join(EVALUATORS)
        raise _criterion_error(key, "kind", kind, "is not a known kind.", f"Use one of {kinds}.")
    field = criterion.get("field")
    if field is None and len(FIELDS_BY_KIND[kind]) == 1:
        field = FIELDS_BY_KIND[kind][0]
    if field not in FIELDS_BY_KIND[kind]:
        fields = ", ".join(FIELDS_BY_KIND[kind])
        raise _criterion_error(
            key,
            "field",
            field,
            f"is not an account field that kind {kind!r} can test.",
            f"Use one of {fields}.",
        )
    knockout = criterion.get("knockout", False)
    negate = criterion.get("negate", False)
    for part, flag in (("knockout", knockout), ("negate", negate)):
        if not isinstance(flag, bool):
            raise _criterion_error(
                key, part, flag, "is not true or false.", f"Give {part} as true or false."
            )
    weight = criterion.get("weight", 0 if knockout else None)
    if weight is None:
        raise _criterion_error(
            key, "weight", weight, "is missing.", "Give the points it earns, from 1 to 1,000."
        )
    if isinstance(weight, bool) or not isinstance(weight, int):
        raise _criterion_error(
            key, "weight", weight, "is not a whole number.", "Use a whole number from 1 to 1,000."
        )
    if weight < 0:
        raise _criterion_error(
            key, "weight", weight, "is below 0.", "Use a whole number from 1 to 1,000."
        )
    if weight == 0 and not knockout:
        raise _criterion_error(
            key,
            "weight",
            weight,
            "earns no points.",
            "Give a positive weight, or make the criterion a knock-out.",
        )
    if weight > 1000:
        raise _criterion_error(
            key, "weight", weight, "is above 1,000.", "Use a weight from 1 to 1,000."
        )
    if knockout:
        weight = 0

    cleaned = {"key": key, "kind": kind, "field": field, "weight": weight}
    cleaned.update(VALIDATORS[kind](key, criterion))
    if knockout:
        cleaned["knockout"] = True
    if negate:
        cleaned["negate"] = True
    label = criterion.get("label")
    if label is not None and (not isinstance(label, str) or "\x00" in label):
        raise _criterion_error(
            key, "label", label, "is not text.", "Write the label as text, or leave it empty."
        )
    if label and len(label.strip()) > MAX_LABEL_LENGTH:
        raise _criterion_error(
            key,
            "label",
            f"{label.strip()[:40]}…",
            f"is longer than {MAX_LABEL_LENGTH} characters.",
            "Shorten the label.",
        )
    if label and label.strip():
        cleaned["label"] = label.strip()
    else:
        cleaned["label"] = criterion_label(cleaned)
    # Learned criteria carry the evidence behind them; keep it when a draft is edited.
    for evidence, parts in EVIDENCE_PARTS.items():
        if criterion.get(evidence) is not None:
            cleaned[evidence] = _validate_evidence(key, evidence, criterion[evidence], parts)
    return cleaned


def _validate_evidence(key: str, evidence: str, value, parts: dict[str, bool]) -> dict:
    """Check learned support or lift: an object of the known parts, each a number.

    `parts` maps each part to True when it is a count (the deals and accounts of
    support), which must be a whole number of at least 0. Lift ratios may be any
    finite number or null.
    """
    names = ", ".join(parts)
    if not isinstance(value, dict) or not set(value) <= set(parts):
        raise _criterion_error(
            key, evidence, value, f"is not an object of {names}.", f"Send only {names}, or omit it."
        )
    cleaned = {}
    for part, counted in parts.items():
        number = value.get(part)
        if counted:
            valid = isinstance(number, int) and not isinstance(number, bool) and number >= 0
        else:
            valid = number is None or (
                isinstance(number, int | float)
                and not isinstance(number, bool)
                and math.isfinite(number)
            )
        if not valid:
            kind = "a whole number of at least 0" if counted else "a finite number or null"
            raise _criterion_error(
                key, f"{evidence}.{part}", number, f"is not {kind}.", f"Send {part} as {kind}."
            )
        cleaned[part] = number
    return cleaned


def _text_values(key: str, criterion: dict) -> list[str]:
    values = criterion.get("values")
    if isinstance(values, str):
        values = [value for value in values.split(",") if value.strip()]
    if not isinstance(values, list) or not values:
        raise _criterion_error(
            key, "values", values, "is not a non-empty list.", "List at least one value to match."
        )
    if len(values) > MAX_VALUES:
        raise _criterion_error(
            key,
            "values",
            len(values),
            f"lists more than {MAX_VALUES:,} values.",
            "Keep the values that matter, or split them over several criteria.",
        )
    cleaned = []
    seen = set()
    for value in values:
        if not isinstance(value, str) or not value.strip() or "\x00" in value:
            raise _criterion_error(
                key, "values", value, "is blank or not text.", "Remove the value or write it out."
            )
        if len(value.strip()) > MAX_VALUE_LENGTH:
            raise _criterion_error(
                key,
                "values",
                f"{value.strip()[:40]}…",
                f"is longer than {MAX_VALUE_LENGTH} characters.",
                "Shorten the value.",
            )
        folded = value.strip().casefold()
        if folded not in seen:
            seen.add(folded)
            cleaned.append(value.strip())
    return cleaned


def _validate_category(key: str, criterion: dict) -> dict:
    return {"values": _text_values(key, criterion)}


def _validate_tech_stack(key: str, criterion: dict) -> dict:
    values = _text_values(key, criterion)
    match = criterion.get("match", "any")
    if match not in TECH_MATCHES:
        raise _criterion_error(
            key, "match", match, "is not a known match.", f"Use one of {', '.join(TECH_MATCHES)}."
        )
    cleaned = {"values": values, "match": match}
    if match == "at_least":
        count = criterion.get("count")
        if count is None:
            raise _criterion_error(
                key,
                "count",
                count,
                "is missing.",
                "Set how many of the listed technologies an account must use.",
            )
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= len(values):
            raise _criterion_error(
                key,
                "count",
                count,
                f"is not a whole number from 1 to {len(values)}.",
                "Set how many of the listed technologies an account must use.",
            )
        cleaned["count"] = count
    return cleaned


def _validate_trigger(key: str, criterion: dict) -> dict:
    trigger = criterion.get("trigger")
    if (
        not isinstance(trigger, str)
        or not trigger.strip()
        or len(trigger.strip()) > 60
        or "\x00" in trigger
    ):
        raise _criterion_error(
            key,
            "trigger",
            trigger,
            "is not a trigger name.",
            "Name the buying trigger as accounts carry it, such as 'funding'.",
        )
    days = criterion.get("within_days")
    if days is None:
        raise _criterion_error(
            key,
            "within_days",
            days,
            "is missing.",
            "Say how recent the trigger must be, such as 180.",
        )
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_TRIGGER_DAYS:
        raise _criterion_error(
            key,
            "within_days",
            days,
            f"is not a whole number of days from 1 to {MAX_TRIGGER_DAYS}.",
            "Say how recent the trigger must be, such as 180.",
        )
    return {"trigger": normalise_trigger_name(trigger), "within_days": days}


def _validate_range(key: str, criterion: dict) -> dict:
    low, high = criterion.get("min"), criterion.get("max")
    for part, bound in (("min", low), ("max", high)):
        if bound is None:
            continue
        if (
            isinstance(bound, bool)
            or not isinstance(bound, int | float)
            or not math.isfinite(bound)
            or abs(bound) > MAX_BOUND
        ):
            fix = (
                f"Give {part} as a number between -{MAX_BOUND:,.0f} and {MAX_BOUND:,.0f}, "
                "or leave it empty for an open range."
            )
            raise _criterion_error(key, part, bound, "is not a finite number in range.", fix)
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
VALIDATORS = {
    "category": _validate_category,
    "range": _validate_range,
    "tech_stack": _validate_tech_stack,
    "trigger": _validate_trigger,
    "willingness_to_pay": _validate_range,
}
