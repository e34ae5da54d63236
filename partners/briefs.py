"""Partner briefs: the on-profile accounts in a partner's reach that it should bring forward.

An account in the partner's matched reach is on-profile when its fit tier is A or B.
Each on-profile account falls in exactly one group. The groups are checked in this
order: already a customer (it has a won deal), in open pipeline (it has an open deal),
registered by another partner (an approved registration of another partner is in force
today). An account in
none of them is a prospect to bring forward. The brief also describes the active ICP
version in plain words.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef

from attribution.selectors import registered_by_another
from crm.models import Account, Deal
from icp.frames import account_frames
from icp.models import IcpVersion
from icp.scoring import criterion_label, criterion_matches, is_knockout, scored_weight
from icp.selectors import icp_version_active
from partners.models import Partner, ReachEntry
from partners.overlap import ON_PROFILE_TIERS
from tenancy.models import Tenant
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

# Only the first prospects get matched criteria, so a large reach stays cheap to brief.
MAX_EXPLAINED_PROSPECTS = 200
# Matched criteria shown per prospect, highest weight first.
MAX_REASONS = 3
# Characters that make a spreadsheet read a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADER = ("account", "domain", "tier", "fit_score", "why_on_profile")


@dataclass(frozen=True)
class Prospect:
    """An on-profile account in the partner's reach that no deal or partner claims yet."""

    account_id: int
    name: str
    domain: str
    tier: str
    score: int | None
    # Labels of the active version's criteria the account matches, highest weight first.
    # Empty with no active version, and for prospects past MAX_EXPLAINED_PROSPECTS.
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class IcpSummary:
    """The active ICP version in plain words, or `version` None when none is active."""

    version: IcpVersion | None
    # (label, points out of 100) of each scoring criterion, highest first.
    strengths: tuple[tuple[str, int], ...] = ()
    knockouts: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        if self.version is None:
            return (
                "No ICP version is active, so fit tiers are not current and the brief "
                "lists accounts by their last score."
            )
        if not self.strengths and not self.knockouts:
            return f"The active ICP version {self.version.number} has no criteria."
        parts = []
        if self.strengths:
            wins = "; ".join(f"{label} ({points} points)" for label, points in self.strengths)
            parts.append(f"We win most with: {wins}.")
        if self.knockouts:
            parts.append(f"We never pay for: {'; '.join(self.knockouts)}.")
        return " ".join(parts)


@dataclass(frozen=True)
class PartnerBrief:
    """The prospects a partner should bring forward, with the on-profile accounts left out."""

    partner: Partner
    summary: IcpSummary
    prospects: list[Prospect] = field(default_factory=list)
    customer_count: int = 0
    open_pipeline_count: int = 0
    other_partner_count: int = 0
    # True when only the first MAX_EXPLAINED_PROSPECTS prospects carry reasons.
    reasons_truncated: bool = False

    @property
    def on_profile_count(self) -> int:
        return (
            len(self.prospects)
            + self.customer_count
            + self.open_pipeline_count
            + self.other_partner_count
        )

    @property
    def headline(self) -> str:
        return (
            f"{self.on_profile_count} on-profile accounts in your reach: "
            f"{len(self.prospects)} to bring forward, "
            f"{self.customer_count} already customers, "
            f"{self.open_pipeline_count} in open pipeline, "
            f"{self.other_partner_count} registered by another partner"
        )


def icp_summary(version: IcpVersion | None) -> IcpSummary:
    """Describe `version`'s criteria: scoring ones with their points of 100, then knock-outs."""
    if version is None:
        return IcpSummary(version=None)
    criteria = list(version.criteria or [])
    total = scored_weight(criteria)
    strengths = []
    knockouts = []
    for criterion in criteria:
        label = _label(criterion)
        if is_knockout(criterion):
            knockouts.append(label)
        elif total > 0:
            # Points of a 100-point score, rounded half up as icp.scoring rounds scores.
            points = (200 * int(criterion["weight"]) + total) // (2 * total)
            strengths.append((label, points))
    strengths.sort(key=lambda item: -item[1])
    return IcpSummary(version=version, strengths=tuple(strengths), knockouts=tuple(knockouts))


def _label(criterion: dict) -> str:
    label = criterion.get("label") or criterion_label(criterion)
    return label.removeprefix("Knock-out: ")


def partner_brief(*, partner: Partner) -> PartnerBrief:
    """Build `partner`'s brief from its matched reach and the tenant's active ICP version."""
    tenant_id = partner.tenant_id
    logger.info("partners.brief.started tenant_id=%s partner_id=%s", tenant_id, partner.pk)
    version = icp_version_active(tenant=tenant_id)
    today = Tenant.objects.get(pk=tenant_id).today()
    with tenant_scope(tenant_id):
        reach_accounts = ReachEntry.objects.filter(
            partner_id=partner.pk, account__isnull=False
        ).values("account_id")
        deals = Deal.objects.filter(account_id=OuterRef("pk"))
        rows = list(
            Account.objects.filter(pk__in=reach_accounts, fit_tier__in=ON_PROFILE_TIERS)
            .annotate(
                is_customer=Exists(deals.filter(stage=Deal.Stage.WON)),
                in_pipeline=Exists(deals.filter(stage=Deal.Stage.OPEN)),
                held_by_other=registered_by_another(partner_id=partner.pk, on=today),
            )
            .order_by("-fit_score", "name", "pk")
            .values(
                "pk",
                "name",
                "domain",
                "fit_tier",
                "fit_score",
                "held_by_other",
                "is_customer",
                "in_pipeline",
            )
        )

    counts = {"customer": 0, "pipeline": 0, "other_partner": 0}
    candidates = []
    for row in rows:
        if row["is_customer"]:
            counts["customer"] += 1
        elif row["in_pipeline"]:
            counts["pipeline"] += 1
        elif row["held_by_other"]:
            counts["other_partner"] += 1
        else:
            candidates.append(row)

    explained = candidates[:MAX_EXPLAINED_PROSPECTS]
    reasons = matched_criteria_labels(tenant_id, version, [row["pk"] for row in explained])
    prospects = [
        Prospect(
            account_id=row["pk"],
            name=row["name"],
            domain=row["domain"],
            tier=row["fit_tier"],
            score=row["fit_score"],
            reasons=reasons.get(row["pk"], ()),
        )
        for row in candidates
    ]
    brief = PartnerBrief(
        partner=partner,
        summary=icp_summary(version),
        prospects=prospects,
        customer_count=counts["customer"],
        open_pipeline_count=counts["pipeline"],
        other_partner_count=counts["other_partner"],
        reasons_truncated=version is not None and len(candidates) > MAX_EXPLAINED_PROSPECTS,
    )
    logger.info(
        "partners.brief.finished tenant_id=%s partner_id=%s on_profile=%s prospects=%s",
        tenant_id,
        partner.pk,
        brief.on_profile_count,
        len(prospects),
    )
    return brief


def matched_criteria_labels(
    tenant_id: int, version: IcpVersion | None, account_ids: list[int]
) -> dict[int, tuple[str, ...]]:
    """Return, per account, the labels of the scoring criteria it matches, highest weight first.

    Knock-outs are left out because an account that matches one scores tier D, so it
    is no prospect while its stored fit is current.
    """
    if version is None or not account_ids:
        return {}
    criteria = sorted(
        (c for c in version.criteria or [] if not is_knockout(c)),
        key=lambda c: -int(c["weight"]),
    )
    if not criteria:
        return {}
    as_of = Tenant.objects.get(pk=tenant_id).today()
    labels: dict[int, list[str]] = {}
    for frame in account_frames(tenant_id, account_ids=account_ids, criteria=criteria):
        ids = frame["id"].tolist()
        for criterion in criteria:
            matched = criterion_matches(frame, criterion, as_of)
            for account_id, hit in zip(ids, matched, strict=True):
                if hit:
                    labels.setdefault(account_id, []).append(_label(criterion))
    return {account_id: tuple(found[:MAX_REASONS]) for account_id, found in labels.items()}


def csv_cell(value) -> str:
    """Return `value` as CSV text, quoting a leading formula character so spreadsheets show text."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return f"'{text}"
    return text


def partner_brief_csv(brief: PartnerBrief) -> str:
    """Return the brief's prospects as CSV text with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for prospect in brief.prospects:
        writer.writerow(
            [
                csv_cell(prospect.name),
                csv_cell(prospect.domain),
                csv_cell(prospect.tier),
                csv_cell(prospect.score),
                csv_cell("; ".join(prospect.reasons)),
            ]
        )
    return buffer.getvalue()
