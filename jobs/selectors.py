"""Reads of background jobs."""

from __future__ import annotations

from jobs.models import Job
from tenancy.errors import NotFound
from tenancy.scope import tenant_scope


def job_get(*, tenant, pk) -> Job:
    """Return the tenant's job `pk`, or raise NotFound, also for another tenant's id."""
    try:
        job_id = int(pk)
    except (TypeError, ValueError):
        job_id = None
    job = None
    if job_id is not None:
        with tenant_scope(tenant):
            job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound(
            f"Job {pk} not found.",
            field="pk",
            value=pk,
            fix="Use the id returned when the job was started.",
        )
    return job


def job_latest(*, tenant, kind: str, subject: str | None = None) -> Job | None:
    """Return the tenant's newest job of `kind` (and `subject`), or None."""
    with tenant_scope(tenant):
        jobs = Job.objects.filter(kind=kind)
        if subject is not None:
            jobs = jobs.filter(subject=subject)
        return jobs.order_by("-created_at", "-pk").first()
