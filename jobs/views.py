"""Job pages: the progress of one background job, refreshed by htmx until it ends."""

from __future__ import annotations

from django.shortcuts import render

from jobs.models import Job
from tenancy.permissions import staff_required
from tenancy.shortcuts import get_for_tenant_or_404

POLL_SECONDS = 1


@staff_required
def job_detail(request, pk: int):
    job = get_for_tenant_or_404(Job, pk=pk)
    template = "jobs/_progress.html" if request.htmx else "jobs/job_detail.html"
    return render(request, template, {"job": job, "poll_seconds": POLL_SECONDS})
