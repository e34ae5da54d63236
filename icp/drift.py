"""Drift report: how the deals won since the active version's activation compare with it.

The functions above `icp_drift_report` are pure: they take frames with one row per
won deal (or per customer account) and return plain rows for pages and the API.
`icp_drift_report` loads those frames from the database.

Rules, with the thresholds below:

- Too few wins: with fewer than MIN_WINS won deals since activation the report
  states it and lists no segment findings, because a handful of deals moves any
  share by tens of points.
- Winning outside the profile: a segment (an industry, a country, an employee band
  or a revenue band) with at least MIN_SEGMENT_WINS wins since activation, more
  than OFF_PROFILE_SHARE of them on accounts that the version scores tier C or D.
- Stopped winning: a value or range that a criterion rewards, whose expected wins
  (its share of the wins before activation × the wins since) are at least
  STOPPED_MIN_EXPECTED, while its actual wins since activation are below
  STOPPED_RATIO × expected.
- Churn: customer accounts (with a won deal) whose churned_on falls on or after the
  activation date, over the customers of the same tier that had not churned before it.

Accounts are judged by their current attributes, not by those they had when the
deal closed, and tiers come from scoring them against the version today.
"""

from __future__ import annotations

import datetime
import logging
import math
import zoneinfo

import numpy as np
import pandas as pd
from django.utils import timezone

from crm.models import Account, Deal
from icp.frames import account_frames
from icp.models import IcpVersion
from icp.scoring import (
    FIELD_LABELS,
    LOWEST_TIER,
    TIERS,
    criterion_label,
    criterion_matches,
    is_knockout,
    score_frame,
)
from tenancy.models import Tenant
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

ALL_TIERS = (*TIERS, LOWEST_TIER)
MIN_WINS = 20
MIN_SEGMENT_WINS = 5
OFF_PROFILE_TIERS = ("C", "D")
OFF_PROFILE_SHARE = 0.5
# A segment is growing when its share of wins since activation is at least this
# multiple of its share before activation, or it had no wins before.
GROWTH_RATIO = 1.25
STOPPED_MIN_EXPECTED = 3.0
STOPPED_RATIO = 0.5
# Band edges for segments: readable round numbers, lower edge inclusive.
EMPLOYEE_EDGES = (10, 50, 200, 1_000, 5_000)
REVENUE_EDGES = (1e6, 1e7, 5e7, 2.5e8, 1e9)
# Segment dimensions: (key, account field, band edges or None for a category).
DIMENSIONS = (
    ("industry", "industry", None),
    ("country", "country", None),
    ("employee_band", "employees", EMPLOYEE_EDGES),
    ("revenue_band", "annual_revenue", REVENUE_EDGES),
)
DIMENSION_LABELS = {
    "industry": "Industry",
    "country": "Country",
    "employee_band": "Employees",
    "revenue_band": "Annual revenue",
}
# Criterion kinds whose rewarded values the stopped-winning rule checks. Buying
# triggers count back from the scoring date, so past wins cannot be judged by them.
ASSESSED_KINDS = ("category", "range", "willingness_to_pay", "tech_stack")


def rules_text() -> list[str]:
    """Describe the report's rules and thresholds in sentences, for the page and the API."""
    off_percent = round(OFF_PROFILE_SHARE * 100)
    stopped_percent = round(STOPPED_RATIO * 100)
    return [
        f"Findings need at least {MIN_WINS} won deals since activation.",
        f"A segment wins outside the profile when it has at least {MIN_SEGMENT_WINS} wins "
        f"since activation and more than {off_percent}% of them are tier C or D.",
        "A rewarded value stopped winning when its expected wins since activation (its "
        "share of the wins before activation × the wins since) are at least "
        f"{STOPPED_MIN_EXPECTED:g} and its actual wins are below {stopped_percent}% of that.",
        "Churn counts customers whose churn date is on or after the activation date, over "
        "the customers of the tier that had not churned before it.",
        "Tiers score each account's current attributes against this version today.",
    ]


def band_label(low: float | None, high: float | None, field: str) -> str:
    """Describe a band such as "200 to 1,000", "under 10" or "$1B or more"."""
    text = criterion_label({"kind": "range", "field": field, "min": low, "max": high})
    return text.removeprefix(f"{FIELD_LABELS[field]} ")


def band_codes(values: pd.Series, edges: tuple) -> pd.Series:
    """Return each value's band index over `edges` (0 is below the first edge), NA if missing."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    codes = np.searchsorted(np.asarray(edges, dtype="float64"), numbers, side="right")
    return pd.Series(codes, index=values.index, dtype="Int64").mask(np.isnan(numbers))


def band_bounds(code: int, edges: tuple) -> tuple[float | None, float | None]:
    low = float(edges[code - 1]) if code > 0 else None
    high = float(edges[code]) if code < len(edges) else None
    return low, high


def segment_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the segment of each row per dimension: casefolded text or a band index."""
    keys = pd.DataFrame(index=frame.index)
    for dimension, field, edges in DIMENSIONS:
        if edges is None:
            text = frame[field].astype("string").str.strip().str.casefold()
            keys[dimension] = text.mask(text == "")
        else:
            keys[dimension] = band_codes(frame[field], edges)
    return keys


def tier_mix(now: pd.DataFrame, version_metrics: dict) -> dict:
    """Compare the tiers of the wins since activation with the tiers the version expected.

    `now` has `tier` (scored today) and `frozen_tier` (stored when the deal was won,
    blank when unscored). The expected share comes from the learned metrics'
    won_deals per tier; without them, `expected_share` is None ("no baseline").
    """
    total = len(now)
    scored = now["tier"].value_counts()
    frozen = now["frozen_tier"].fillna("").value_counts()
    expected_counts = _expected_won(version_metrics)
    expected_total = sum(expected_counts.values()) if expected_counts else 0
    rows = []
    for tier in ALL_TIERS:
        wins = int(scored.get(tier, 0))
        share = wins / total if total else None
        expected = expected_counts[tier] / expected_total if expected_total else None
        rows.append(
            {
                "tier": tier,
                "wins": wins,
                "share": _round(share),
                "frozen_wins": int(frozen.get(tier, 0)),
                "frozen_share": _round(int(frozen.get(tier, 0)) / total) if total else None,
                "expected_share": _round(expected),
                "change_points": None
                if share is None or expected is None
                else round((share - expected) * 100, 1),
            }
        )
    return {
        "rows": rows,
        "frozen_unscored": int(frozen.get("", 0)),
        "has_baseline": bool(expected_total),
        "baseline": (version_metrics or {}).get("tier_basis") if expected_total else None,
    }


def _expected_won(metrics: dict) -> dict[str, int] | None:
    tiers = (metrics or {}).get("tiers")
    if not isinstance(tiers, dict):
        return None
    counts = {}
    for tier in ALL_TIERS:
        won = (tiers.get(tier) or {}).get("won_deals")
        if not isinstance(won, int | float) or won < 0:
            return None
        counts[tier] = int(won)
    return counts


def outside_segments(now: pd.DataFrame, before: pd.DataFrame, criteria: list[dict]) -> list[dict]:
    """Find segments that win mostly as tier C or D since activation.

    Growing segments come first, then long-standing ones, each by most wins.
    Each row names the dimension, the segment (`value` for a category, `min`/`max`
    for a band), its wins since and before activation, the off-profile wins and the
    keys of criteria that already reward the segment.
    """
    # Segments that already won as often off-profile before activation are kept with
    # `growing` False, because they show a long-standing gap rather than new drift.
    # The draft from findings adds only growing segments.
    keys_now = segment_keys(now)
    keys_before = segment_keys(before)
    off_profile = now["tier"].isin(OFF_PROFILE_TIERS)
    total = len(now)
    rows = []
    for dimension, field, edges in DIMENSIONS:
        column = keys_now[dimension]
        wins = column.value_counts()
        off = column[off_profile].value_counts()
        before_counts = keys_before[dimension].value_counts()
        for key, count in wins.items():
            count = int(count)
            off_count = int(off.get(key, 0))
            if count < MIN_SEGMENT_WINS or off_count / count <= OFF_PROFILE_SHARE:
                continue
            share = count / total
            wins_before = int(before_counts.get(key, 0))
            share_before = wins_before / len(before) if len(before) else None
            row = {
                "dimension": dimension,
                "dimension_label": DIMENSION_LABELS[dimension],
                "field": field,
                "wins": count,
                "share_of_wins": _round(count / total),
                "off_profile_wins": off_count,
                "off_profile_share": _round(off_count / count),
                "wins_before": wins_before,
                "share_before": _round(share_before),
                "growing": not share_before or share >= GROWTH_RATIO * share_before,
            }
            if edges is None:
                value = _display_value(now.loc[column.eq(key).fillna(False).astype(bool), field])
                row.update({"value": value, "min": None, "max": None, "label": value})
            else:
                low, high = band_bounds(int(key), edges)
                label = band_label(low, high, field)
                row.update({"value": None, "min": low, "max": high, "label": label})
            row["rewarded_by"] = _rewarding_criteria(row, criteria)
            rows.append(row)
    rows.sort(
        key=lambda row: (not row["growing"], -row["wins"], row["dimension"], str(row["label"]))
    )
    return rows


def _display_value(values: pd.Series) -> str:
    """Return the most common spelling of a category among rows that casefold alike."""
    counts = values.astype("string").str.strip().value_counts()
    return str(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[0][0])


def _rewarding_criteria(row: dict, criteria: list[dict]) -> list[str]:
    """Return the keys of point-earning criteria that already match the whole segment."""
    keys = []
    for criterion in criteria:
        if is_knockout(criterion) or criterion.get("field") != row["field"]:
            continue
        if row["value"] is not None and criterion["kind"] == "category":
            listed = {str(value).casefold() for value in criterion["values"]}
            if (row["value"].casefold() in listed) != bool(criterion.get("negate")):
                keys.append(criterion["key"])
        elif (
            row["value"] is None
            and criterion["kind"] == "range"
            and not criterion.get("negate")
            and _range_covers(criterion, row["min"], row["max"])
        ):
            keys.append(criterion["key"])
    return keys


def _range_covers(criterion: dict, low: float | None, high: float | None) -> bool:
    c_low, c_high = criterion.get("min"), criterion.get("max")
    low_ok = c_low is None or (low is not None and low >= c_low)
    high_ok = c_high is None or (high is not None and high <= c_high)
    return low_ok and high_ok


def rewarded_values(criteria: list[dict]) -> list[dict]:
    """Split the point-earning criteria into the single values or ranges they reward.

    A category or tech stack criterion yields one probe per listed value, and a range
    one probe for the whole range. Negated criteria and knock-outs reward no value.
    """
    probes = []
    for criterion in criteria:
        if is_knockout(criterion) or criterion.get("negate"):
            continue
        kind = criterion["kind"]
        if kind not in ASSESSED_KINDS:
            continue
        if kind in ("category", "tech_stack"):
            for value in criterion["values"]:
                probe = {"kind": kind, "field": criterion["field"], "values": [value]}
                if kind == "tech_stack":
                    probe["match"] = "any"
                probes.append(
                    {
                        "criterion_key": criterion["key"],
                        "criterion_label": criterion.get("label") or criterion_label(criterion),
                        "kind": kind,
                        "field": criterion["field"],
                        "value": value,
                        "min": None,
                        "max": None,
                        "label": criterion_label(probe),
                        "probe": probe,
                    }
                )
        else:
            probe = {key: criterion.get(key) for key in ("kind", "field", "min", "max")}
            probes.append(
                {
                    "criterion_key": criterion["key"],
                    "criterion_label": criterion.get("label") or criterion_label(criterion),
                    "kind": kind,
                    "field": criterion["field"],
                    "value": None,
                    "min": criterion.get("min"),
                    "max": criterion.get("max"),
                    "label": criterion_label(probe),
                    "probe": probe,
                }
            )
    return probes


def stopped_segments(
    now: pd.DataFrame, before: pd.DataFrame, criteria: list[dict], as_of=None
) -> list[dict]:
    """Find rewarded values whose wins since activation fell well below their earlier share.

    Returns one row per rewarded value that meets the stopped-winning rule, with its
    wins before, its expected and actual wins since activation, largest gap first.
    """
    if not len(before) or not len(now):
        return []
    rows = []
    for probe in rewarded_values(criteria):
        wins_before = int(criterion_matches(before, probe["probe"], as_of).sum())
        actual = int(criterion_matches(now, probe["probe"], as_of).sum())
        expected = wins_before / len(before) * len(now)
        if expected < STOPPED_MIN_EXPECTED or actual >= STOPPED_RATIO * expected:
            continue
        row = {key: value for key, value in probe.items() if key != "probe"}
        row.update(
            {
                "wins_before": wins_before,
                "share_before": _round(wins_before / len(before)),
                "expected_wins": round(expected, 1),
                "actual_wins": actual,
                "share_now": _round(actual / len(now)),
            }
        )
        rows.append(row)
    rows.sort(key=lambda row: (row["actual_wins"] - row["expected_wins"], row["label"]))
    return rows


def churn_by_tier(
    customers: pd.DataFrame, since: datetime.date, today: datetime.date
) -> list[dict]:
    """Count churned customers per tier since `since`, and their rate, with a total row.

    `customers` has one row per account with a won deal: `tier` and `churned_on`
    (a date or None). Accounts that churned before `since` are left out.
    """
    churned_on = pd.to_datetime(customers["churned_on"], errors="coerce")
    start, end = pd.Timestamp(since), pd.Timestamp(today)
    at_start = churned_on.isna() | (churned_on >= start)
    churned = (churned_on >= start) & (churned_on <= end)
    base = customers.loc[at_start]
    rows = []
    for tier in (*ALL_TIERS, "all"):
        in_tier = base if tier == "all" else base.loc[base["tier"] == tier]
        count = len(in_tier)
        lost = int(churned.loc[in_tier.index].sum())
        rows.append(
            {
                "tier": tier,
                "customers": count,
                "churned": lost,
                "rate": _round(lost / count) if count else None,
            }
        )
    return rows


def build_report(
    *,
    wins: pd.DataFrame,
    customers: pd.DataFrame,
    version: IcpVersion,
    since: datetime.date,
    since_basis: str,
    today: datetime.date,
) -> dict:
    """Assemble the drift report from scored wins and customers.

    `wins` has one row per won deal with `close_date`, `tier`, `frozen_tier` and the
    account's scoring columns. Wins dated after `today` are ignored.
    """
    close = pd.to_datetime(wins["close_date"], errors="coerce")
    start, end = pd.Timestamp(since), pd.Timestamp(today)
    now = wins.loc[(close >= start) & (close <= end)]
    before = wins.loc[close < start]
    if version.trained_from is not None and version.trained_from < since:
        before = before.loc[close.loc[before.index] >= pd.Timestamp(version.trained_from)]
    enough = len(now) >= MIN_WINS
    criteria = version.criteria or []

    report = {
        "version": {"id": version.pk, "number": version.number, "name": version.name},
        "since": since,
        "since_basis": since_basis,
        "today": today,
        "wins_since": len(now),
        "wins_before": len(before),
        "min_wins": MIN_WINS,
        "enough_wins": enough,
        "message": _message(len(now), len(before), since, enough),
        "rules": rules_text(),
        "tier_mix": tier_mix(now, version.metrics or {}),
        "outside": [],
        "stopped": [],
        "churn": churn_by_tier(customers, since, today),
        "not_assessed": [
            criterion.get("label") or criterion_label(criterion)
            for criterion in criteria
            if criterion["kind"] not in ASSESSED_KINDS
        ],
    }
    if enough:
        report["outside"] = outside_segments(now, before, criteria)
        report["stopped"] = stopped_segments(now, before, criteria, as_of=today)
    report["has_findings"] = bool(report["outside"] or report["stopped"])
    return report


def _message(wins_since: int, wins_before: int, since, enough: bool) -> str:
    if not enough:
        return (
            f"Only {wins_since:,} won deal{'s' if wins_since != 1 else ''} closed since "
            f"{since.isoformat()}, fewer than the {MIN_WINS} this report needs. The tier "
            "counts below are too few to judge drift, so the report lists no segment "
            "findings yet."
        )
    if not wins_before:
        return (
            f"{wins_since:,} won deals closed since {since.isoformat()}, but none before it, "
            "so no rewarded value can be checked for a drop."
        )
    return (
        f"{wins_since:,} won deals closed since {since.isoformat()}, compared with "
        f"{wins_before:,} won before it."
    )


def _round(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), 4)


def icp_drift_report(*, tenant: Tenant, version: IcpVersion) -> dict:
    """Load the tenant's won deals and customers, score them against `version` and report.

    The period starts on the tenant date of the version's activation, or of its
    creation when it has no activation time.
    """
    today = tenant.today()
    zone = zoneinfo.ZoneInfo(tenant.time_zone)
    if version.activated_at is not None:
        since = timezone.localtime(version.activated_at, zone).date()
        since_basis = "activation"
    else:
        since = timezone.localtime(version.created_at, zone).date()
        since_basis = "creation"
    logger.info(
        "icp.drift.started tenant_id=%s icp_version_id=%s since=%s", tenant.pk, version.pk, since
    )
    wins, customers = _load_frames(tenant, version, today)
    report = build_report(
        wins=wins,
        customers=customers,
        version=version,
        since=since,
        since_basis=since_basis,
        today=today,
    )
    logger.info(
        "icp.drift.finished tenant_id=%s icp_version_id=%s wins_since=%s outside=%s stopped=%s",
        tenant.pk,
        version.pk,
        report["wins_since"],
        len(report["outside"]),
        len(report["stopped"]),
    )
    return report


DEAL_COLUMNS = ["id", "account_id", "close_date", "won_fit_tier"]


def _load_frames(
    tenant: Tenant, version: IcpVersion, today: datetime.date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (wins, customers): won deals with scored accounts, and one row per customer."""
    with tenant_scope(tenant):
        deals = list(
            Deal.objects.filter(
                stage=Deal.Stage.WON, account__isnull=False, close_date__isnull=False
            )
            .order_by("pk")
            .values_list(*DEAL_COLUMNS)
        )
    deal_frame = pd.DataFrame.from_records(deals, columns=DEAL_COLUMNS).rename(
        columns={"id": "deal_id", "won_fit_tier": "frozen_tier"}
    )
    account_ids = sorted(set(deal_frame["account_id"]))
    criteria = version.criteria or []

    scored_parts = []
    if account_ids:
        for frame in account_frames(tenant, account_ids, criteria=criteria):
            scored = score_frame(frame, criteria, version.tier_cutoffs, as_of=today)
            scored_parts.append(frame.join(scored[["score", "tier"]]))
    accounts = _accounts_with_churn(tenant, scored_parts, account_ids)

    wins = deal_frame.merge(
        accounts.drop(columns=["churned_on"]), left_on="account_id", right_on="id", how="inner"
    )
    customers = accounts[["id", "tier", "churned_on"]]
    return wins, customers


def _accounts_with_churn(tenant: Tenant, parts: list[pd.DataFrame], account_ids) -> pd.DataFrame:
    if not parts:
        columns = ["id", "industry", "country", "employees", "annual_revenue", "score", "tier"]
        frame = pd.DataFrame(columns=columns)
        frame["churned_on"] = pd.Series(dtype="object")
        return frame
    accounts = pd.concat(parts, ignore_index=True)
    with tenant_scope(tenant):
        churn = dict(
            Account.objects.filter(pk__in=account_ids, churned_on__isnull=False).values_list(
                "pk", "churned_on"
            )
        )
    accounts["churned_on"] = accounts["id"].map(churn)
    return accounts
