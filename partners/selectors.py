"""Reads of the active tenant's partners with their overlap score and delivered results."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, F, JSONField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Lower

from partners.models import Partner, PartnerScore, ReachEntry
from partners.scores import SCORE_COLUMNS
from reporting.models import PartnerRollup
from tenancy.errors import DomainError, NotFound
from tenancy.models import AuditEvent, Membership

# PartnerScore columns exposed on each partner as `score_<name>`: every column a
# refresh writes but the version. All are None until the partner's score has been
# computed.
SCORE_FIELDS = tuple(column for column in SCORE_COLUMNS if column != "icp_version")
# Statuses the ranking lists by default: partners not signed yet.
RANKING_DEFAULT_STATUSES = (Partner.Status.PROSPECT, Partner.Status.APPLIED)

# PartnerRollup columns exposed as `rollup_<name>`, with the value a partner
# without a roll-up row gets: no deals and no commission yet.
ROLLUP_DEFAULTS = {
    "won_deals": Value(0),
    "won_revenue": Value(Decimal("0.00")),
    "on_profile_revenue": Value(Decimal("0.00")),
    "lost_deals": Value(0),
    "commission_total": Value(Decimal("0.00")),
    "tier_mix": Value({}, output_field=JSONField()),
}


# Sort keys of the partner list and the annotated column each one orders by. A key
# with a leading "-" sorts descending.
PARTNER_SORTS = {
    "name": "name",
    "score": "score_overlap_score",
    "reach": "score_reach_count",
    "matched": "score_matched_count",
    "on_profile_share": "score_on_profile_share",
    "target_coverage": "score_target_coverage",
    "won_deals": "rollup_won_deals",
    "won_revenue": "rollup_won_revenue",
    "on_profile_revenue": "rollup_on_profile_revenue",
    "commission": "rollup_commission_total",
}


def _column_of(queryset: QuerySet, name: str) -> Subquery:
    """Return column `name` of the row of `queryset` that belongs to the outer partner."""
    return Subquery(queryset.filter(partner_id=OuterRef("pk")).values(name)[:1])


def partner_list(
    *,
    segment: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    search: str = "",
    sort: str | None = None,
) -> QuerySet[Partner]:
    """Return the tenant's partners, best overlap score first, with score and roll-up.

    Each partner carries `score_<field>` for SCORE_FIELDS and `rollup_<field>`
    for ROLLUP_DEFAULTS plus `rollup_refreshed_at`. The score columns come from a
    left join on PartnerScore, which has at most one row per partner, and the
    roll-up columns from correlated subqueries on the (tenant, partner) unique
    index, so a page of partners is one query. `segment`, `status` and `kind` keep
    the partners that have them, and `search` the ones whose name or external id
    contains it, ignoring case. `sort` is a key of PARTNER_SORTS, with "-" first for
    descending. Partners without a value come last in both directions. Raises
    DomainError for an unknown sort key.
    """
    rollups = PartnerRollup.objects.all()
    annotations = {f"score_{name}": F(f"scores__{name}") for name in SCORE_FIELDS}
    for name, default in ROLLUP_DEFAULTS.items():
        annotations[f"rollup_{name}"] = Coalesce(_column_of(rollups, name), default)
    annotations["rollup_refreshed_at"] = _column_of(rollups, "refreshed_at")
    partners = Partner.objects.annotate(**annotations).order_by(*_partner_ordering(sort))
    if segment:
        partners = partners.filter(score_segment=segment)
    if status:
        partners = partners.filter(status=status)
    if kind:
        partners = partners.filter(kind=kind)
    if search:
        partners = partners.filter(Q(name__icontains=search) | Q(external_id__icontains=search))
    return partners


def _partner_ordering(sort: str | None) -> list:
    if not sort:
        return [F("score_overlap_score").desc(nulls_last=True), "name", "id"]
    key = sort.removeprefix("-")
    column = PARTNER_SORTS.get(key)
    if column is None:
        allowed = ", ".join(PARTNER_SORTS)
        raise DomainError(
            f"Unknown sort {sort!r}.",
            field="sort",
            value=sort,
            fix=f"Use one of {allowed}, with a leading - for descending order.",
        )
    if column == "name":
        name = Lower("name")
        return [name.desc() if sort.startswith("-") else name.asc(), "id"]
    expression = F(column)
    ordered = (
        expression.desc(nulls_last=True)
        if sort.startswith("-")
        else expression.asc(nulls_last=True)
    )
    return [ordered, Lower("name"), "id"]


def partner_ranking(
    *, statuses=RANKING_DEFAULT_STATUSES, kind: str | None = None
) -> QuerySet[Partner]:
    """Return the partners in `statuses` (and of `kind`) ranked for signing.

    Highest overlap score first. Ties go to the larger fit-weighted reach, then
    the name (case-insensitive) and the id, so the order is the same on every
    request. Partners not scored yet come last.
    """
    partners = partner_list().filter(status__in=list(statuses))
    if kind:
        partners = partners.filter(kind=kind)
    return partners.order_by(
        F("score_overlap_score").desc(nulls_last=True),
        F("score_fit_weighted_reach").desc(nulls_last=True),
        Lower("name"),
        "id",
    )


def segment_counts() -> dict[str, int]:
    """Return how many of the tenant's partners each segment has."""
    return dict(
        PartnerScore.objects.exclude(segment="")
        .values("segment")
        .annotate(partners=Count("id"))
        .values_list("segment", "partners")
    )


def partner_get(*, pk: int) -> Partner:
    """Return the tenant's partner `pk` with score and roll-up, or raise NotFound."""
    partner = partner_list().filter(pk=pk).first()
    if partner is None:
        raise NotFound(
            "No partner has this id.",
            field="id",
            value=pk,
            fix="List partners with GET /api/v1/partners/ to find the id.",
        )
    return partner


def partner_by_external_id(*, external_id: str, optional: bool = False) -> Partner:
    """Return the partner a request names, or raise DomainError naming the field.

    Pass `optional=True` when the request may leave the partner out; the error's
    fix then suggests that.
    """
    partner = Partner.objects.filter(external_id=external_id).first()
    if partner is None:
        fix = "Create the partner first"
        raise DomainError(
            "No partner has this external_id.",
            field="partner_external_id",
            value=external_id,
            fix=f"{fix} or leave partner_external_id empty." if optional else f"{fix}.",
        )
    return partner


def partner_history(*, partner: Partner) -> QuerySet[AuditEvent]:
    """Return the audit events of the partner, newest first, with their actors."""
    return (
        AuditEvent.objects.filter(object_type=Partner._meta.label, object_id=str(partner.pk))
        .select_related("actor")
        .order_by("-created_at", "-id")
    )


def partner_portal_users(*, partner: Partner) -> QuerySet[Membership]:
    """Return the partner's portal users with their accounts, by username."""
    return (
        Membership.objects.filter(
            tenant_id=partner.tenant_id, partner=partner, role=Membership.Role.PARTNER
        )
        .select_related("user")
        .order_by("user__username")
    )


def reach_entry_list(*, partner: Partner, matched: bool | None = None) -> QuerySet[ReachEntry]:
    """Return `partner`'s reach entries by domain, with the matched account's fit.

    `matched` keeps only the entries that match an account (True) or none (False).
    """
    entries = ReachEntry.objects.filter(partner=partner).select_related("account")
    if matched is not None:
        entries = entries.filter(account__isnull=not matched)
    return entries.order_by("domain", "id")
