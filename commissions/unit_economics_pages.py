"""The unit economics page: expected lifetime value per ICP tier and each partner's cost share."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from commissions.unit_economics import (
    CHURN_WINDOW_DAYS,
    MAX_LIFETIME_YEARS,
    MIN_TIER_CUSTOMERS,
    unit_economics,
)
from tenancy.permissions import page_permissions, staff_required

PARTNERS_PER_PAGE = 50


@staff_required
def unit_economics_page(request):
    economics = unit_economics(tenant=request.tenant)
    context = {
        "economics": economics,
        "page": Paginator(economics.partners, PARTNERS_PER_PAGE).get_page(request.GET.get("page")),
        "min_tier_customers": MIN_TIER_CUSTOMERS,
        "max_lifetime_years": MAX_LIFETIME_YEARS,
        "churn_window_days": CHURN_WINDOW_DAYS,
        **page_permissions(request.membership),
    }
    return render(request, "commissions/unit_economics.html", context)
