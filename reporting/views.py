"""The dashboard page."""

from __future__ import annotations

from django.shortcuts import render

from reporting import selectors
from tenancy.permissions import staff_required


@staff_required
def dashboard(request):
    context = {
        "headline": selectors.dashboard_headline(),
        "leaderboard": selectors.partner_leaderboard(),
        "sources": selectors.deal_source_comparison(),
    }
    return render(request, "reporting/dashboard.html", context)
