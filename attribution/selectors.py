"""Reads of the active tenant's registrations and tracking links for pages and the API."""

from __future__ import annotations

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from attribution.eligibility import detail_for_viewer
from attribution.models import Click, Referral, Touch, TrackingLink
from crm.models import Deal
from tenancy.errors import NotFound


def referral_list(
    *,
    status: str = "",
    conflict: str = "",
    partner_id: int | None = None,
    domain: str = "",
) -> QuerySet[Referral]:
    """Return the tenant's registrations, newest first, optionally filtered."""
    referrals = Referral.objects.select_related("partner", "reviewed_by")
    if status:
        referrals = referrals.filter(status=status)
    if conflict:
        referrals = referrals.filter(conflict=conflict)
    if partner_id is not None:
        referrals = referrals.filter(partner_id=partner_id)
    if domain:
        referrals = referrals.filter(domain=domain)
    return referrals.order_by("-registered_at", "-id")


def referral_get(*, pk: int, partner_id: int | None = None) -> Referral:
    """Return the tenant's registration `pk` (of `partner_id` when given), or raise NotFound."""
    referral = referral_list(partner_id=partner_id).filter(pk=pk).first()
    if referral is None:
        raise NotFound(
            "No registration has this id.",
            field="id",
            value=pk,
            fix="List registrations with GET /api/v1/referrals/ to find the id.",
        )
    return referral


def conflict_message(referral: Referral, *, reveal_holder: bool) -> str:
    """Return why the registration was held, in the words for staff or for its partner."""
    detail = referral.conflict_detail or {}
    if reveal_holder:
        return detail.get("staff_message") or detail.get("message", "")
    return detail.get("message", "")


def conflict_facts(referral: Referral, *, reveal_holder: bool) -> dict:
    """Return the facts behind the conflict, without the holder or deal id for partners."""
    detail = {
        key: value
        for key, value in (referral.conflict_detail or {}).items()
        if key not in ("message", "staff_message")
    }
    return detail_for_viewer(detail, reveal_holder=reveal_holder)


def _click_count() -> Coalesce:
    clicks = (
        Click.objects.filter(link_id=OuterRef("pk"))
        .order_by()
        .values("link_id")
        .annotate(count=Count("*"))
        .values("count")
    )
    return Coalesce(Subquery(clicks, output_field=IntegerField()), Value(0))


def _conversion_count() -> Coalesce:
    """Count the companies that a link's visitors became and that won a deal for its partner.

    A link touch is a click of the link by a visitor whom the tenant reported as
    converted into a company. The company counts when an account with the touch's
    domain has a won deal credited to the link's partner. The credit may come from
    another touch of the same partner, so a company reached through two of the
    partner's links counts for both.
    """
    won = Deal.objects.filter(
        stage=Deal.Stage.WON,
        partner_id=OuterRef("partner_id"),
        account__domain=OuterRef("domain"),
    )
    companies = (
        Touch.objects.filter(kind=Touch.Kind.LINK, click__link_id=OuterRef("pk"))
        .filter(Exists(won))
        .order_by()
        .values("click__link_id")
        .annotate(count=Count("domain", distinct=True))
        .values("count")
    )
    return Coalesce(Subquery(companies, output_field=IntegerField()), Value(0))


def link_list(
    *,
    partner_id: int | None = None,
    active: bool | None = None,
    with_conversions: bool = False,
) -> QuerySet[TrackingLink]:
    """Return the tenant's tracking links, newest first, each with `click_count`.

    With `with_conversions`, each link also gets `conversion_count` (see
    `_conversion_count`), computed in the same query as the links.
    """
    links = TrackingLink.objects.select_related("partner").annotate(click_count=_click_count())
    if with_conversions:
        links = links.annotate(conversion_count=_conversion_count())
    if partner_id is not None:
        links = links.filter(partner_id=partner_id)
    if active is not None:
        links = links.filter(is_active=active)
    return links.order_by("-created_at", "-id")


def link_get(*, pk: int) -> TrackingLink:
    """Return the tenant's tracking link `pk`, or raise NotFound."""
    link = link_list().filter(pk=pk).first()
    if link is None:
        raise NotFound(
            "No tracking link has this id.",
            field="id",
            value=pk,
            fix="List links with GET /api/v1/links/ to find the id.",
        )
    return link


def registered_by_another(*, partner_id: int, on, domain_ref: str = "domain") -> Exists:
    """Return an Exists over approved registrations of the outer row's domain by other partners.

    A registration counts while it is in force on the date `on`, so an expired one
    no longer keeps the company from the partner's brief. `domain_ref` names the
    outer query's domain column, such as "domain" on accounts.
    """
    return Exists(
        Referral.objects.filter(
            domain=OuterRef(domain_ref),
            status=Referral.Status.APPROVED,
            expires_on__gte=on,
        ).exclude(partner_id=partner_id)
    )
