"""The dashboard page and the fragment that refreshes its numbers in place."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from commissions.unit_economics import unit_economics
from reporting import charts, overview, selectors, tier_outcomes, trends
from tenancy.htmx import htmx_full_page_redirect
from tenancy.permissions import staff_required

# Seconds between two fragment requests of the dashboard's htmx polling.
LIVE_REFRESH_SECONDS = 15


def _live_sections(request) -> dict:
    """Return the context of the sections that refresh: numbers, charts and leaderboard."""
    tenant = request.tenant
    currency = tenant.base_currency
    imports_url = reverse("crm:import_list")
    leaderboard = selectors.partner_leaderboard()
    # NOTE: every poll reruns about ten tenant-wide aggregates over the deals,
    # unit_economics included: 1.1 s at 300,000 deals (bench/results-dashboard.md).
    # Caching these sections per tenant, or storing them with the roll-ups, would
    # take that off each request.
    economics = unit_economics(tenant=tenant)
    return {
        "headline": selectors.dashboard_headline(),
        "fit": overview.fit_overview(),
        "pending_commissions": overview.pending_commissions(),
        "leaderboard": leaderboard,
        "sources": selectors.deal_source_comparison(),
        "charts": [
            charts.revenue_by_month_chart(
                trends.monthly_won_revenue(), currency=currency, imports_url=imports_url
            ),
            charts.tier_mix_chart(leaderboard, imports_url=imports_url),
            charts.tier_outcomes_chart(tier_outcomes.tier_outcomes(), imports_url=imports_url),
            charts.economics_chart(
                economics.partners,
                currency=currency,
                economics_url=reverse("commissions:unit_economics"),
                imports_url=imports_url,
            ),
        ],
        "updated_at": timezone.now(),
        "refresh_seconds": LIVE_REFRESH_SECONDS,
    }


@staff_required
def dashboard(request):
    return render(request, "reporting/dashboard.html", _live_sections(request))


@never_cache
@vary_on_headers("HX-Request")
@htmx_full_page_redirect
@staff_required
@require_GET
def dashboard_live(request):
    # Only htmx polling needs the bare fragment. A browser that opens the URL
    # directly is sent to the whole dashboard.
    if not request.htmx:
        return redirect("reporting:dashboard")
    return render(request, "reporting/_dashboard_live.html", _live_sections(request))
