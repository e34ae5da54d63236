"""The plan simulation page: what a plan would have cost on recent won deals.

Submitting the form starts a background job (commissions.simulation_jobs) and
redirects to the page with `?job=<id>`, which shows the job's progress until it
finishes and then its report.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from commissions.models import CommissionPlan
from commissions.simulation import MAX_MONTHS, MIN_MONTHS, SKIP_REASONS
from commissions.simulation_jobs import simulation_job, simulation_start, simulation_window
from jobs.views import POLL_SECONDS
from tenancy.errors import DomainError
from tenancy.permissions import page_permissions, staff_required
from tenancy.shortcuts import get_for_tenant_or_404

DEFAULT_MONTHS = "12"


@staff_required
@require_http_methods(["GET", "POST"])
def plan_simulate_page(request, pk: int):
    plan = get_for_tenant_or_404(CommissionPlan.objects.prefetch_related("rules"), pk=pk)
    context = {
        "plan": plan,
        "months": DEFAULT_MONTHS,
        "until": "",
        "min_months": MIN_MONTHS,
        "max_months": MAX_MONTHS,
        "skip_reasons": SKIP_REASONS,
        "poll_seconds": POLL_SECONDS,
        **page_permissions(request.membership),
    }
    if request.method == "POST":
        context["months"] = request.POST.get("months", "")
        context["until"] = request.POST.get("until", "")
        try:
            job, _ = simulation_start(
                plan=plan, months=context["months"], until=context["until"], actor=request.user
            )
        except DomainError as error:
            context["error"] = error
            return render(request, "commissions/plan_simulate.html", context, status=400)
        return redirect(f"{reverse('commissions:plan_simulate', args=[plan.pk])}?job={job.pk}")

    if "job" in request.GET:
        job = simulation_job(plan=plan, job_id=request.GET["job"])
        if job is None:
            raise Http404("No simulation job of this plan matches the job parameter.")
        months, until = simulation_window(job)
        context.update(job=job, months=str(months), until=until.isoformat())
        if job.status == job.Status.SUCCEEDED:
            report = job.result
            context["report"] = {**report, "totals_rows": [report["totals"]]}
    return render(request, "commissions/plan_simulate.html", context)
