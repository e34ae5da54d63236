"""Draft a new ICP version from the drift report's findings.

The draft copies the active version and changes its criteria in two steps:

1. Values that stopped winning are removed: a category or tech stack value leaves
   its criterion (a criterion left with no values is dropped), and a range
   criterion that stopped winning is dropped.
2. Growing segments winning outside the profile are added: an industry or country joins
   the category criterion on that field, or a new category criterion with a
   moderate weight (DRIFT_WEIGHT_SHARE of the scored weight) when none exists. A
   value listed by a negated criterion is removed from that list instead. An
   employee or revenue band widens a range criterion on that field when the two
   touch or overlap, and becomes a new range criterion otherwise.

Knock-outs and segments that a criterion already rewards stay as they are, and
the draft's summary lists them. Changed criteria get a fresh label and lose the
learned support and lift, which described the old values. The weights are then
scaled to sum to 100 again.
"""

from __future__ import annotations

import copy
import datetime
import logging

from django.db import transaction
from django.utils import timezone

from icp.drift import icp_drift_report
from icp.models import IcpVersion
from icp.scoring import criterion_label, is_knockout, scored_weight, validate_criteria
from icp.selectors import icp_version_active
from icp.services import _coverage, _next_number, _version_snapshot
from tenancy.errors import Conflict
from tenancy.models import Tenant
from tenancy.scope import tenant_scope
from tenancy.services import actor_user, audit_record

logger = logging.getLogger(__name__)

DRIFT_WEIGHT_SHARE = 0.15
# A second request within this many seconds of the last drift draft of the same
# active version returns that draft instead of creating another (double clicks).
REPEAT_WINDOW_SECONDS = 60


def icp_draft_from_drift(*, tenant: Tenant, actor=None) -> tuple[IcpVersion, bool]:
    """Create a draft version from the active version's drift findings.

    Returns (draft, created). created is False when a drift draft of the same
    active version was made less than REPEAT_WINDOW_SECONDS ago, and that draft is
    returned. Raises Conflict without an active version, with too few wins since
    activation, when the report has no findings, or when the changes would leave
    no criterion that earns points.
    """
    active = icp_version_active(tenant=tenant)
    if active is None:
        raise Conflict(
            "No ICP version is active, so there is no drift to draft from.",
            field="version",
            value=None,
            fix="Activate an ICP version first.",
        )
    recent = _recent_draft(tenant, active)
    if recent is not None:
        return recent, False

    report = icp_drift_report(tenant=tenant, version=active)
    if not report["enough_wins"]:
        raise Conflict(
            f"Only {report['wins_since']} won deals closed since activation, fewer than "
            f"the {report['min_wins']} a draft from drift needs.",
            field="wins_since",
            value=report["wins_since"],
            fix="Wait for more won deals, or copy the version and edit it by hand.",
        )
    if not report["has_findings"]:
        raise Conflict(
            f"The drift report of v{active.number} has no findings, so a draft would not differ.",
            field="findings",
            value=0,
            fix="Complete the review instead if the profile still fits.",
        )

    criteria, changes = apply_findings(active.criteria or [], report["outside"], report["stopped"])
    if scored_weight(criteria) <= 0:
        raise Conflict(
            "Removing the values that stopped winning would leave no criterion that earns points.",
            field="criteria",
            value=[row["label"] for row in report["stopped"]],
            fix="Copy the version and edit its criteria by hand.",
        )
    criteria = validate_criteria(criteria)
    cutoffs = dict(active.tier_cutoffs)
    coverage = _coverage(tenant, criteria, cutoffs)
    today = tenant.today()

    with transaction.atomic(), tenant_scope(tenant):
        # _next_number locks the tenant row, which also serialises this repeat check.
        number = _next_number(tenant)
        recent = _recent_draft(tenant, active)
        if recent is not None:
            return recent, False
        draft = IcpVersion.objects.create(
            tenant=tenant,
            number=number,
            name=f"v{active.number} updated from drift on {today.isoformat()}",
            status=IcpVersion.Status.DRAFT,
            provenance=IcpVersion.Provenance.DRIFT,
            objective=active.objective,
            summary=draft_summary(active, report, changes),
            criteria=criteria,
            tier_cutoffs=cutoffs,
            metrics={
                "coverage": coverage,
                "drift": {
                    "since": report["since"].isoformat(),
                    "wins_since": report["wins_since"],
                    "wins_before": report["wins_before"],
                    "changes": changes,
                },
            },
            based_on=active,
            created_by=actor_user(actor),
        )
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            event="icp_version.drafted_from_drift",
            obj=draft,
            before={"based_on_id": active.pk, "criteria": active.criteria},
            after={**_version_snapshot(draft), "changes": changes},
        )
    logger.info(
        "icp.drift_draft.created tenant_id=%s icp_version_id=%s based_on_id=%s changes=%s",
        tenant.pk,
        draft.pk,
        active.pk,
        len(changes),
    )
    return draft, True


def _recent_draft(tenant: Tenant, active: IcpVersion) -> IcpVersion | None:
    cutoff = timezone.now() - datetime.timedelta(seconds=REPEAT_WINDOW_SECONDS)
    with tenant_scope(tenant):
        return (
            IcpVersion.objects.filter(
                provenance=IcpVersion.Provenance.DRIFT,
                status=IcpVersion.Status.DRAFT,
                based_on=active,
                created_at__gte=cutoff,
            )
            .order_by("-created_at")
            .first()
        )


def apply_findings(
    criteria: list[dict], outside: list[dict], stopped: list[dict]
) -> tuple[list[dict], list[str]]:
    """Return the criteria changed by the findings and one sentence per change or skip."""
    result = copy.deepcopy(criteria)
    changed: set[str] = set()
    changes: list[str] = []
    weight = max(1, round(DRIFT_WEIGHT_SHARE * scored_weight(criteria)))

    for row in stopped:
        changes.append(_remove_stopped(result, row, changed))
    for row in outside:
        if row["growing"]:
            changes.append(_add_outside(result, row, changed, weight))
        else:
            changes.append(
                f"Kept out {row['dimension_label'].lower()} {row['label']}: it won as often "
                "outside the profile before activation, so it is not new drift."
            )

    remaining = []
    for criterion in result:
        if criterion["key"] in changed:
            criterion.pop("support", None)
            criterion.pop("lift", None)
            criterion["label"] = criterion_label(criterion)
        if criterion.get("kind") in ("category", "tech_stack") and not criterion["values"]:
            changes.append(f"Dropped criterion {criterion['key']!r}: none of its values is left.")
            continue
        remaining.append(criterion)
    return weights_to_100(remaining), changes


def weights_to_100(criteria: list[dict]) -> list[dict]:
    """Scale the point-earning weights to sum to 100, as learned versions do.

    Scores are points over total weight, so scaling changes a score only by
    rounding. Largest remainders get the leftover points, and each weight stays at
    least 1.
    """
    scoring = [criterion for criterion in criteria if not is_knockout(criterion)]
    total = sum(int(criterion["weight"]) for criterion in scoring)
    if not total or total == 100 or len(scoring) > 100:
        return criteria
    exact = [int(criterion["weight"]) * 100 / total for criterion in scoring]
    weights = [max(1, int(value)) for value in exact]
    by_remainder = sorted(range(len(scoring)), key=lambda i: (-(exact[i] - int(exact[i])), i))
    for index in by_remainder[: max(0, 100 - sum(weights))]:
        weights[index] += 1
    for criterion, weight in zip(scoring, weights, strict=True):
        criterion["weight"] = weight
    return criteria


def _find(criteria: list[dict], key: str) -> dict | None:
    return next((criterion for criterion in criteria if criterion["key"] == key), None)


def _remove_stopped(criteria: list[dict], row: dict, changed: set[str]) -> str:
    criterion = _find(criteria, row["criterion_key"])
    evidence = f"expected {row['expected_wins']:g} wins since activation, got {row['actual_wins']}"
    if criterion is None:
        return f"Kept {row['label']}: its criterion {row['criterion_key']!r} is already gone."
    if row["value"] is None:
        criteria.remove(criterion)
        return f"Removed criterion {criterion['key']!r} ({row['label']}): {evidence}."

    target = str(row["value"]).casefold()
    criterion["values"] = [value for value in criterion["values"] if value.casefold() != target]
    if criterion["kind"] == "tech_stack" and criterion.get("match") == "at_least":
        criterion["count"] = max(1, min(int(criterion["count"]), len(criterion["values"])))
    changed.add(criterion["key"])
    return f"Removed {row['value']!r} from criterion {criterion['key']!r}: {evidence}."


def _add_outside(criteria: list[dict], row: dict, changed: set[str], weight: int) -> str:
    evidence = (
        f"{row['wins']} wins since activation, {round(row['off_profile_share'] * 100)}% "
        "of them tier C or D"
    )
    segment = f"{row['dimension_label']} {row['label']}"
    if row["rewarded_by"]:
        keys = ", ".join(repr(key) for key in row["rewarded_by"])
        return f"Kept {segment}: criterion {keys} already rewards it ({evidence})."
    knockout = _knockout_matching(criteria, row)
    if knockout is not None:
        return (
            f"Kept {segment}: knock-out {knockout['key']!r} excludes it ({evidence}). "
            "Review that knock-out by hand."
        )
    if row["value"] is not None:
        return _add_category(criteria, row, changed, weight, segment, evidence)
    return _add_band(criteria, row, changed, weight, segment, evidence)


def _knockout_matching(criteria: list[dict], row: dict) -> dict | None:
    for criterion in criteria:
        if not is_knockout(criterion) or criterion.get("field") != row["field"]:
            continue
        if row["value"] is not None and criterion["kind"] == "category":
            listed = {str(value).casefold() for value in criterion["values"]}
            if (row["value"].casefold() in listed) != bool(criterion.get("negate")):
                return criterion
    return None


def _add_category(criteria, row, changed, weight, segment, evidence) -> str:
    value = row["value"]
    target = value.casefold()
    for criterion in criteria:
        if criterion["kind"] != "category" or criterion["field"] != row["field"]:
            continue
        if is_knockout(criterion):
            continue
        listed = [item.casefold() for item in criterion["values"]]
        if criterion.get("negate") and target in listed:
            criterion["values"] = [
                item for item in criterion["values"] if item.casefold() != target
            ]
            changed.add(criterion["key"])
            key = criterion["key"]
            return f"Removed {value!r} from the excluded values of {key!r}: {evidence}."
        if not criterion.get("negate"):
            criterion["values"].append(value)
            changed.add(criterion["key"])
            return f"Added {value!r} to criterion {criterion['key']!r}: {evidence}."

    key = _unique_key(criteria, f"drift_{row['field']}")
    criteria.append(
        {"key": key, "kind": "category", "field": row["field"], "values": [value], "weight": weight}
    )
    changed.add(key)
    return f"Added criterion {key!r} for {segment} with weight {weight}: {evidence}."


def _add_band(criteria, row, changed, weight, segment, evidence) -> str:
    low, high = row["min"], row["max"]
    for criterion in criteria:
        if criterion["kind"] != "range" or criterion["field"] != row["field"]:
            continue
        if is_knockout(criterion) or criterion.get("negate"):
            continue
        if not _ranges_touch(criterion.get("min"), criterion.get("max"), low, high):
            continue
        before = criterion_label(criterion)
        criterion["min"] = _lower(criterion.get("min"), low)
        criterion["max"] = _upper(criterion.get("max"), high)
        changed.add(criterion["key"])
        return (
            f"Widened criterion {criterion['key']!r} from {before} to "
            f"{criterion_label(criterion)} to cover {segment}: {evidence}."
        )

    key = _unique_key(criteria, f"drift_{row['field']}")
    criteria.append(
        {
            "key": key,
            "kind": "range",
            "field": row["field"],
            "min": low,
            "max": high,
            "weight": weight,
        }
    )
    changed.add(key)
    return f"Added criterion {key!r} for {segment} with weight {weight}: {evidence}."


def _ranges_touch(a_low, a_high, b_low, b_high) -> bool:
    """Return whether [a_low, a_high) and [b_low, b_high) overlap or share an edge.

    A None bound is open.
    """
    a_starts_in_time = b_high is None or a_low is None or a_low <= b_high
    b_starts_in_time = a_high is None or b_low is None or b_low <= a_high
    return a_starts_in_time and b_starts_in_time


def _lower(a, b):
    return None if a is None or b is None else min(a, b)


def _upper(a, b):
    return None if a is None or b is None else max(a, b)


def _unique_key(criteria: list[dict], base: str) -> str:
    keys = {criterion["key"] for criterion in criteria}
    if base not in keys:
        return base
    suffix = 2
    while f"{base}_{suffix}" in keys:
        suffix += 1
    return f"{base}_{suffix}"


def draft_summary(active: IcpVersion, report: dict, changes: list[str]) -> str:
    """Write the draft's summary: where it came from and each change, one per line."""
    lines = [
        f"Drafted from the drift report of v{active.number} \u201c{active.name}\u201d: "
        f"{report['wins_since']} won deals since {report['since'].isoformat()}, "
        f"{report['wins_before']} before. Tier cut-offs are unchanged; check the coverage "
        "before activating.",
        *(f"- {change}" for change in changes),
    ]
    return "\n".join(lines)
