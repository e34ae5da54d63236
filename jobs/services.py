"""Writes of background jobs: create, start, report progress, finish.

Progress writes are single UPDATE statements. Tasks call them between their
chunk transactions, never inside one, so a page polling the job shows each step at
once. Each write names the job by id and tenant, so a task never touches another
tenant's job.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from jobs.models import Job
from tenancy.services import actor_user

logger = logging.getLogger(__name__)


def job_create(*, tenant, kind: str, subject: str = "", actor=None, total=None) -> Job:
    job = Job.all_tenants.create(
        tenant=tenant,
        kind=kind,
        subject=subject,
        total=total,
        created_by=actor_user(actor),
        stage="Waiting for a worker",
    )
    logger.info("job.created job_id=%s tenant_id=%s kind=%s", job.pk, tenant.pk, kind)
    return job


def _update(job_id: int, tenant_id: int, **values) -> int:
    values["updated_at"] = timezone.now()
    return Job.all_tenants.filter(pk=job_id, tenant_id=tenant_id).update(**values)


def job_start(*, job_id: int, tenant_id: int, stage: str = "Started", total=None) -> bool:
    """Mark the job running; return False when it is finished or gone, so the task skips it.

    A redelivered task calls this again: the attempt count rises and the job keeps
    running from the start.
    """
    with transaction.atomic():
        job = Job.all_tenants.select_for_update().filter(pk=job_id, tenant_id=tenant_id).first()
        if job is None or job.finished:
            logger.info("job.start_skipped job_id=%s tenant_id=%s", job_id, tenant_id)
            return False
        job.status = Job.Status.RUNNING
        job.stage = stage
        job.attempts += 1
        job.done = 0
        job.total = total
        job.started_at = job.started_at or timezone.now()
        job.save(update_fields=["status", "stage", "attempts", "done", "total", "started_at"])
    logger.info("job.started job_id=%s tenant_id=%s attempt=%s", job_id, tenant_id, job.attempts)
    return True


def job_progress(*, job_id: int, tenant_id: int, done: int, total=None, stage=None) -> None:
    values = {"done": done}
    if total is not None:
        values["total"] = total
    if stage is not None:
        values["stage"] = stage[:200]
    _update(job_id, tenant_id, **values)


def job_succeed(
    *, job_id: int, tenant_id: int, message: str = "", result=None, target_url: str = ""
) -> None:
    _update(
        job_id,
        tenant_id,
        status=Job.Status.SUCCEEDED,
        stage="Finished",
        message=message,
        result=result or {},
        target_url=target_url,
        finished_at=timezone.now(),
    )
    logger.info("job.succeeded job_id=%s tenant_id=%s", job_id, tenant_id)


def job_fail(*, job_id: int, tenant_id: int, message: str, result=None) -> None:
    _update(
        job_id,
        tenant_id,
        status=Job.Status.FAILED,
        stage="Failed",
        message=message[:2000],
        result=result or {},
        finished_at=timezone.now(),
    )
    logger.warning("job.failed job_id=%s tenant_id=%s message=%s", job_id, tenant_id, message)


def job_supersede(*, job_id: int, tenant_id: int, message: str) -> None:
    _update(
        job_id,
        tenant_id,
        status=Job.Status.SUPERSEDED,
        stage="Superseded",
        message=message,
        finished_at=timezone.now(),
    )
    logger.info("job.superseded job_id=%s tenant_id=%s", job_id, tenant_id)
