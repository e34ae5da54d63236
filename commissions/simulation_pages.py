"""The plan simulation page: what a plan would have cost on recent won deals."""

from __future__ import annotations

from django.shortcuts import render

from commissions.models import CommissionPlan
from commissions.simulation import MAX_MONTHS, MIN_MONTHS, SKIP_REASONS, plan_simulate
from tenancy.errors import DomainError
from tenancy.permissions import page_permissions, staff_required
from tenancy.shortcuts import get_for_tenant_or_404


@staff_required
def plan_simulate_page(request, pk: int):
    plan = get_for_tenant_or_404(CommissionPlan.objects.prefetch_related("rules"), pk=pk)
    context = {
        "plan": plan,
        "months": request.GET.get("months", "12"),
        "until": request.GET.get("until", ""),
        "min_months": MIN_MONTHS,
        "max_months": MAX_MONTHS,
        "skip_reasons": SKIP_REASONS,
        **page_permissions(request.membership),
    }
    try:
        report = plan_simulate(plan=plan, months=context["months"], until=context["until"])
    except DomainError as error:
        context["error"] = error
        return render(request, "commissions/plan_simulate.html", context, status=400)
    context["report"] = {**report, "totals_rows": [report["totals"]]}
    return render(request, "commissions/plan_simulate.html", context)
