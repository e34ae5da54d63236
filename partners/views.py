"""Partner pages for staff, and the portal where a partner user sees their own results."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.db.models.functions import Coalesce, Lower, NullIf
from django.shortcuts import render

from partners import selectors as partner_selectors
from partners.models import ReachEntry
from reporting import selectors as reporting_selectors
from tenancy.permissions import partner_user_required, staff_required
from tenancy.shortcuts import get_for_tenant_or_404

PARTNERS_PER_PAGE = 25
REACH_PER_PAGE = 25
LEDGER_ROWS_SHOWN = 50
TIER_ORDER = ("A", "B", "C", "D")


def _reach_entries(partner) -> QuerySet[ReachEntry]:
    """Return the partner's reach list: matched accounts by tier (A first), then by name.

    Matched accounts without a tier come after tier D, and entries that match no
    account come last. The name is the matched account's name, else the company
    name given in the reach list, else the domain.
    """
    tier_rank = Case(
        *(When(account__fit_tier=tier, then=Value(rank)) for rank, tier in enumerate(TIER_ORDER)),
        When(account__isnull=False, then=Value(len(TIER_ORDER))),
        default=Value(len(TIER_ORDER) + 1),
        output_field=IntegerField(),
    )
    name = Coalesce("account__name", NullIf("company_name", Value("")), "domain")
    return (
        ReachEntry.objects.filter(partner=partner)
        .select_related("account")
        .annotate(tier_rank=tier_rank, sort_name=Lower(name))
        .order_by("tier_rank", "sort_name", "domain", "id")
    )


@staff_required
def partner_list(request):
    partners = partner_selectors.partner_list()
    page = Paginator(partners, PARTNERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "partners/partner_list.html", {"page": page})


@staff_required
def partner_detail(request, pk: int):
    partner = get_for_tenant_or_404(partner_selectors.partner_list(), pk=pk)
    reach = _reach_entries(partner)
    context = {
        "partner": partner,
        "tier_mix": reporting_selectors.rollup_tier_mix(partner.rollup_tier_mix),
        "reach_page": Paginator(reach, REACH_PER_PAGE).get_page(request.GET.get("page")),
        "entries": reporting_selectors.ledger_entries(partner_id=partner.pk)[:LEDGER_ROWS_SHOWN],
        "entries_limit": LEDGER_ROWS_SHOWN,
    }
    return render(request, "partners/partner_detail.html", context)


@partner_user_required
def portal(request):
    # Fetched through the tenant check because nothing in the schema ties the
    # membership's partner to the membership's tenant.
    partner = get_for_tenant_or_404(
        partner_selectors.partner_list(), pk=request.membership.partner_id
    )
    entries = reporting_selectors.ledger_entries(partner_id=partner.pk)
    context = {
        "partner": partner,
        "tier_mix": reporting_selectors.rollup_tier_mix(partner.rollup_tier_mix),
        "entries_page": Paginator(entries, LEDGER_ROWS_SHOWN).get_page(request.GET.get("page")),
    }
    return render(request, "partners/portal.html", context)
