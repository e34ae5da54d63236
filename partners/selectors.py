"""Reads of the active tenant's partners with their overlap score and delivered results."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, F, JSONField, OuterRef, QuerySet, Subquery, Value
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


def _column_of(queryset: QuerySet, name: str) -> Subquery:
    """Return column `name` of the row of `queryset` that belongs to the outer partner."""
    return Subquery(queryset.filter(partner_id=OuterRef("pk")).values(name)[:1])


def partner_list(*, segment: str | None = None) -> QuerySet[Partner]:
    """Return the tenant's partners, best overlap score first, with score and roll-up.

    Each partner carries `score_<field>` for SCORE_FIELDS and `rollup_<field>`
    for ROLLUP_DEFAULTS plus `rollup_refreshed_at`. The score columns come from a
    left join on PartnerScore, which has at most one row per partner, and the
    roll-up columns from correlated subqueries on the (tenant, partner) unique
    index, so a page of partners is one query. `segment` keeps the partners in it.
    """
    rollups = PartnerRollup.objects.all()
    annotations = {f"score_{name}": F(f"scores__{name}") for name in SCORE_FIELDS}
    for name, default in ROLLUP_DEFAULTS.items():
        annotations[f"rollup_{name}"] = Coalesce(_column_of(rollups, name), default)
    annotations["rollup_refreshed_at"] = _column_of(rollups, "refreshed_at")
    partners = Partner.objects.annotate(**annotations).order_by(
        F("score_overlap_score").desc(nulls_last=True), "name", "id"
    )
    if segment:
        partners = partners.filter(score_segment=segment)
    return partners


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
