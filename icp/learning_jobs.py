"""Start learning an ICP draft as a background job, one job per tenant at a time."""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from icp.learning.weighting import WEIGHTING_NONE, validate_weighting
from icp.services import _validate_name
from icp.tasks import LEARN_JOB_STALE_SECONDS, learn_icp_job_task
from jobs.models import Job
from jobs.services import job_create, job_supersede
from tenancy.models import Tenant
from tenancy.queue import enqueue_on_commit
from tenancy.scope import tenant_scope
from tenancy.services import audit_record

logger = logging.getLogger(__name__)

UNFINISHED = (Job.Status.QUEUED, Job.Status.RUNNING)


def icp_learn_start(
    *, tenant: Tenant, actor=None, weighting: str = WEIGHTING_NONE, name: str | None = None
) -> tuple[Job, bool]:
    """Queue a job that learns a draft ICP version, and return (job, created).

    While a learn job of the tenant is queued or running, that job is returned with
    created False and nothing is queued, so a double click starts one job. A job
    without any write for LEARN_JOB_STALE_SECONDS is taken as lost (its worker died
    or the broker never got the task), is marked superseded, and a new job starts.
    Raises DomainError for an invalid weighting or name before anything is written.
    """
    weighting = validate_weighting(weighting)
    name = _validate_name(name) if name else None

    with transaction.atomic():
        # Locking the tenant row serialises concurrent starts of the same tenant.
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        running = _unfinished_learn_job(tenant)
        if running is not None:
            logger.info(
                "icp.learn_job.already_running tenant_id=%s job_id=%s", tenant.pk, running.pk
            )
            return running, False

        job = job_create(
            tenant=tenant,
            kind=Job.Kind.ICP_LEARN,
            subject=f"weighting:{weighting}",
            actor=actor,
        )
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            event="icp_learn.started",
            obj=job,
            after={"weighting": weighting, "name": name},
        )
        enqueue_on_commit(learn_icp_job_task, job.pk, tenant.pk, weighting=weighting, name=name)
    logger.info(
        "icp.learn_job.queued tenant_id=%s job_id=%s weighting=%s", tenant.pk, job.pk, weighting
    )
    return job, True


def _unfinished_learn_job(tenant: Tenant) -> Job | None:
    """Return the tenant's queued or running learn job, superseding the ones gone stale."""
    stale_before = timezone.now() - datetime.timedelta(seconds=LEARN_JOB_STALE_SECONDS)
    with tenant_scope(tenant):
        jobs = list(
            Job.objects.filter(kind=Job.Kind.ICP_LEARN, status__in=UNFINISHED).order_by(
                "-created_at", "-pk"
            )
        )
    current = None
    for job in jobs:
        if job.updated_at < stale_before:
            job_supersede(
                job_id=job.pk,
                tenant_id=tenant.pk,
                message=(
                    f"No progress for over {LEARN_JOB_STALE_SECONDS // 60} minutes, so a new "
                    "learning job replaced this one."
                ),
            )
        elif current is None:
            current = job
    return current
