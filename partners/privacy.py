"""Account mapping privacy: the part of its account overlap that a partner may see.

The overlap of a partner is its reach entries that match a tenant account by domain.
The tenant sets a default level and a partner may have its own setting; an empty
partner setting follows the tenant. Every partner-facing page, CSV and API response
takes its overlap and brief data from this module, which applies these levels:

- counts: six numbers about the overlap (OverlapCounts) and the count of
  prospects in the brief. The partner's own reach entries stay visible as it
  uploaded them (domain and company name), with no mark of a match.
- names: also, per matched entry, the tenant account's name, whether it is on
  profile (tier A or B) and whether it is a prospect to bring. The brief lists
  its prospects by name and domain.
- details: also the tier, fit score, up to `briefs.MAX_REASONS` labels of the
  criteria the account matches, and its relationship (customer, open pipeline or
  prospect). The brief lists tier, fit score and matched criteria too.

No level shows deal amounts, deal owners, notes, firmographics, accounts that are not
on the partner's reach list, or anything of other partners. An account another
partner registered differs from a prospect only in that it is not a prospect to bring,
and which partner registered it, and when, never appears.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet

from attribution.selectors import registered_by_another
from crm.models import Deal
from icp.selectors import icp_version_active
from partners.briefs import PartnerBrief, matched_criteria_labels
from partners.models import Partner, ReachEntry
from partners.overlap import ON_PROFILE_TIERS
from tenancy.models import Tenant
from tenancy.scope import tenant_scope

Visibility = Tenant.MappingVisibility

SOURCE_TENANT = "tenant"
SOURCE_PARTNER = "partner"

EXPLANATIONS = {
    Visibility.COUNTS: (
        "This program shares counts only: how many companies on your reach list match its "
        "accounts, and how many of those are on profile, customers, in open pipeline or "
        "prospects to bring. It does not list the accounts."
    ),
    Visibility.NAMES: (
        "This program shares the names of its accounts that match companies on your reach "
        "list, whether each is on profile and whether it is a prospect to bring. It does not "
        "share tiers, scores, deals or amounts."
    ),
    Visibility.DETAILS: (
        "This program shares, for its accounts that match companies on your reach list, the "
        "name, ICP tier, fit score, the profile criteria each matches and whether it is a "
        "customer, in open pipeline or a prospect. It does not share deal amounts, owners "
        "or notes."
    ),
}

# Shown in the brief and its API at counts, in place of the prospect list.
COUNTS_ONLY_NOTE = (
    "This program shares counts only, so the brief gives the number of prospects "
    "without listing them."
)
# The reason the portal's brief CSV is rejected at counts.
COUNTS_ONLY_CSV_MESSAGE = (
    "This program shares counts only, so the brief has no account list to download. "
    "The portal page shows the number of prospects."
)


class Relationship:
    """The state of a matched account with the tenant, from its deals."""

    CUSTOMER = "customer"
    OPEN_PIPELINE = "open_pipeline"
    PROSPECT = "prospect"
    VALUES = (CUSTOMER, OPEN_PIPELINE, PROSPECT)


# Keys of one reach row per level. The partner's own upload comes first. A reach row
# at names or details also has `matched`, and only matched rows carry the other keys.
OWN_FIELDS = ("domain", "company_name")
NAMES_FIELDS = ("account_name", "on_profile", "prospect_to_bring")
DETAILS_FIELDS = ("tier", "fit_score", "criteria", "relationship")
ROW_FIELDS = {
    Visibility.COUNTS: OWN_FIELDS,
    Visibility.NAMES: OWN_FIELDS + NAMES_FIELDS,
    Visibility.DETAILS: OWN_FIELDS + NAMES_FIELDS + DETAILS_FIELDS,
}

# Keys of one brief prospect per level; at counts the brief lists none.
PROSPECT_FIELDS = {
    Visibility.NAMES: ("account_name", "domain"),
    Visibility.DETAILS: ("account_name", "domain", "tier", "fit_score", "criteria"),
}
BRIEF_CSV_HEADER = {
    Visibility.NAMES: ("account", "domain"),
    Visibility.DETAILS: ("account", "domain", "tier", "fit_score", "why_on_profile"),
}


@dataclass(frozen=True)
class EffectiveVisibility:
    """The level a partner sees, and whether its own setting or the tenant's default set it."""

    level: str
    source: str

    @property
    def label(self) -> str:
        return Visibility(self.level).label

    @property
    def explanation(self) -> str:
        return EXPLANATIONS[self.level]

    @property
    def shows_rows(self) -> bool:
        """True when the level lists matched accounts, that is names or details."""
        return self.level != Visibility.COUNTS


def visibility_get(*, partner: Partner, tenant: Tenant) -> EffectiveVisibility:
    """Return the partner's level: its own setting, else the tenant's default."""
    if partner.mapping_visibility:
        return EffectiveVisibility(level=partner.mapping_visibility, source=SOURCE_PARTNER)
    return EffectiveVisibility(level=tenant.mapping_visibility, source=SOURCE_TENANT)


def mapping_visibility(*, partner: Partner, tenant: Tenant) -> str:
    """Return the partner's own visibility setting, else the tenant's default."""
    return visibility_get(partner=partner, tenant=tenant).level


@dataclass(frozen=True)
class OverlapCounts:
    """The overlap in numbers, which every level shows."""

    # Entries on the partner's reach list.
    reach_count: int
    # Entries that match a tenant account.
    matched_count: int
    # Matched accounts in tier A or B.
    on_profile_count: int
    # Matched accounts with a won deal.
    customer_count: int
    # Matched accounts with an open deal and no won deal.
    open_pipeline_count: int
    # On-profile matched accounts with no won or open deal that no other partner registered.
    prospect_count: int

    def as_dict(self) -> dict[str, int]:
        return {
            "reach_count": self.reach_count,
            "matched_count": self.matched_count,
            "on_profile_count": self.on_profile_count,
            "customer_count": self.customer_count,
            "open_pipeline_count": self.open_pipeline_count,
            "prospect_count": self.prospect_count,
        }


def _reach_with_relationship(partner: Partner) -> QuerySet[ReachEntry]:
    """Return the partner's reach entries with `is_customer`, `in_pipeline` and `held_by_other`.

    `held_by_other` is true while another partner's approved registration of the
    entry's domain is in force.
    """
    deals = Deal.objects.filter(account_id=OuterRef("account_id"))
    today = partner.tenant.today()
    return ReachEntry.objects.filter(partner_id=partner.pk).annotate(
        is_customer=Exists(deals.filter(stage=Deal.Stage.WON)),
        in_pipeline=Exists(deals.filter(stage=Deal.Stage.OPEN)),
        held_by_other=registered_by_another(partner_id=partner.pk, on=today),
    )


def overlap_counts(*, partner: Partner) -> OverlapCounts:
    """Count the partner's reach and overlap in one query."""
    matched = Q(account__isnull=False)
    on_profile = Q(account__fit_tier__in=ON_PROFILE_TIERS)
    free = Q(held_by_other=False)
    with tenant_scope(partner.tenant_id):
        totals = _reach_with_relationship(partner).aggregate(
            reach_count=Count("pk"),
            matched_count=Count("pk", filter=matched),
            on_profile_count=Count("pk", filter=on_profile),
            customer_count=Count("pk", filter=matched & Q(is_customer=True)),
            open_pipeline_count=Count(
                "pk", filter=matched & Q(is_customer=False, in_pipeline=True)
            ),
            prospect_count=Count(
                "pk",
                filter=on_profile & Q(is_customer=False, in_pipeline=False) & free,
            ),
        )
    return OverlapCounts(**totals)


def reach_rows(*, partner: Partner, level: str, matched_only: bool = False) -> QuerySet:
    """Return the partner's reach entries as value rows to page through and `rows_present`.

    At counts the rows hold only the partner's own upload, ordered by domain, and
    `matched_only` raises ValueError because the level lists no overlap. At names and
    details, matched entries come first, then by domain; the sort uses nothing the
    level hides.
    """
    with tenant_scope(partner.tenant_id):
        if level == Visibility.COUNTS:
            if matched_only:
                raise ValueError("The counts level lists no matched accounts.")
            return (
                ReachEntry.objects.filter(partner_id=partner.pk)
                .order_by("domain", "pk")
                .values("pk", "domain", "company_name")
            )
        rows = _reach_with_relationship(partner)
        if matched_only:
            rows = rows.filter(account__isnull=False)
        unmatched_last = ExpressionWrapper(Q(account__isnull=True), output_field=BooleanField())
        return rows.order_by(unmatched_last, "domain", "pk").values(
            "pk",
            "domain",
            "company_name",
            "account_id",
            "account__name",
            "account__fit_tier",
            "account__fit_score",
            "held_by_other",
            "is_customer",
            "in_pipeline",
        )


def _relationship(row: dict) -> str:
    if row["is_customer"]:
        return Relationship.CUSTOMER
    if row["in_pipeline"]:
        return Relationship.OPEN_PIPELINE
    return Relationship.PROSPECT


def rows_present(*, partner: Partner, level: str, rows, with_matched: bool = True) -> list[dict]:
    """Return `rows` of `reach_rows` with only the keys `level` shows.

    `with_matched` adds the `matched` flag at names and details; the overlap lists
    leave it out because all their rows match.
    """
    if level == Visibility.COUNTS:
        return [{"domain": row["domain"], "company_name": row["company_name"]} for row in rows]

    criteria: dict[int, tuple[str, ...]] = {}
    if level == Visibility.DETAILS:
        account_ids = [row["account_id"] for row in rows if row["account_id"] is not None]
        if account_ids:
            version = icp_version_active(tenant=partner.tenant_id)
            with tenant_scope(partner.tenant_id):
                criteria = matched_criteria_labels(partner.tenant_id, version, account_ids)

    visible_rows = []
    for row in rows:
        item = {"domain": row["domain"], "company_name": row["company_name"]}
        matched = row["account_id"] is not None
        if with_matched:
            item["matched"] = matched
        if matched:
            relationship = _relationship(row)
            on_profile = row["account__fit_tier"] in ON_PROFILE_TIERS
            item["account_name"] = row["account__name"]
            item["on_profile"] = on_profile
            item["prospect_to_bring"] = (
                on_profile and relationship == Relationship.PROSPECT and not row["held_by_other"]
            )
            if level == Visibility.DETAILS:
                item["tier"] = row["account__fit_tier"]
                item["fit_score"] = row["account__fit_score"]
                item["criteria"] = list(criteria.get(row["account_id"], ()))
                item["relationship"] = relationship
        visible_rows.append(item)
    return visible_rows


@dataclass(frozen=True)
class PortalBrief:
    """A partner's brief with only what its level shows."""

    level: str
    summary_text: str
    # The active ICP version's number, or None when none is active.
    icp_version: int | None
    strengths: tuple[tuple[str, int], ...]
    knockouts: tuple[str, ...]
    on_profile_count: int
    prospect_count: int
    # Prospect rows with the keys of PROSPECT_FIELDS[level]; None at counts.
    prospects: list[dict] | None
    # True when only the first prospects list matched criteria; always False below details.
    criteria_truncated: bool

    @property
    def headline(self) -> str:
        prospects = "prospect" if self.prospect_count == 1 else "prospects"
        accounts = "account" if self.on_profile_count == 1 else "accounts"
        return (
            f"{self.prospect_count} {prospects} to bring forward among "
            f"{self.on_profile_count} on-profile {accounts} in your reach"
        )

    @property
    def note(self) -> str:
        return COUNTS_ONLY_NOTE if self.prospects is None else ""


def brief_present(*, brief: PartnerBrief, level: str) -> PortalBrief:
    """Return `brief` cut to what `level` shows.

    Prospects keep the brief's order (best fit first) at details and are sorted by
    account name at names. The count of on-profile accounts registered by other
    partners is left out at every level, so the headline counts prospects among all
    on-profile accounts.
    """
    prospects = None
    if level != Visibility.COUNTS:
        prospects = []
        for prospect in brief.prospects:
            item = {"account_name": prospect.name, "domain": prospect.domain}
            if level == Visibility.DETAILS:
                item["tier"] = prospect.tier
                item["fit_score"] = prospect.score
                item["criteria"] = list(prospect.reasons)
            prospects.append(item)
        if level == Visibility.NAMES:
            # The brief comes best fit first, and that order would rank the accounts
            # by a score this level hides.
            prospects.sort(key=lambda item: (item["account_name"].lower(), item["domain"]))
    summary = brief.summary
    return PortalBrief(
        level=level,
        summary_text=summary.text,
        icp_version=summary.version.number if summary.version is not None else None,
        strengths=summary.strengths,
        knockouts=summary.knockouts,
        on_profile_count=brief.on_profile_count,
        prospect_count=len(brief.prospects),
        prospects=prospects,
        criteria_truncated=level == Visibility.DETAILS and brief.reasons_truncated,
    )


def brief_csv_rows(portal_brief: PortalBrief) -> list[tuple]:
    """Return the header and one row per prospect of the brief's level.

    Raises ValueError at counts, where the brief has no account list.
    """
    if portal_brief.prospects is None:
        raise ValueError(COUNTS_ONLY_CSV_MESSAGE)
    header = BRIEF_CSV_HEADER[portal_brief.level]
    rows: list[tuple] = [header]
    for prospect in portal_brief.prospects:
        row = [prospect["account_name"], prospect["domain"]]
        if portal_brief.level == Visibility.DETAILS:
            row += [prospect["tier"], prospect["fit_score"], "; ".join(prospect["criteria"])]
        rows.append(tuple(row))
    return rows
