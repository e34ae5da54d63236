"""Celery tasks that learn ICP versions and rescore accounts in the background."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from icp import rescoring
from icp.learning import InsufficientData
from icp.models import IcpVersion
from icp.services import accounts_rescore, icp_learn
from jobs.models import Job
from jobs.services import job_fail
from tenancy.models import Tenant
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

# NOTE: the limit is a guess with a wide margin. Learning from the 6,711 closed deals of
# the demo data took about 3 s on a 2-core machine, and bench/results-icp-rescore.md
# rescored 1,000,000 accounts in about 35 s there.
TASK_TIME_LIMIT_SECONDS = 30 * 60
# A lost database connection is retried with a growing delay: 2, 4, 8, 16 and 32 s.
RESCORE_MAX_RETRIES = 5
# A queued or running rescore job untouched for this long is taken as lost (say, sent
# while the broker was down), so the daily trigger rescore starts a new one.
PENDING_JOB_HOURS = 12


@shared_task(
    name="icp.tasks.learn_icp_task",
    acks_late=True,
    time_limit=TASK_TIME_LIMIT_SECONDS,
)
def learn_icp_task(tenant_id: int, actor_id: int | None = None) -> int | None:
    """Learn a draft ICP version for the tenant and return its id.

    Returns None when the tenant is gone or has too few closed deals. A redelivered
    task stores a second draft, because learning is not idempotent.
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.warning("icp.learn_task.skipped tenant_id=%s reason=tenant_not_found", tenant_id)
        return None
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None

    with tenant_scope(tenant):
        try:
            version = icp_learn(tenant=tenant, actor=actor)
        except InsufficientData as error:
            logger.warning(
                "icp.learn_task.rejected tenant_id=%s reason=%s", tenant_id, error.message
            )
            return None
    logger.info("icp.learn_task.finished tenant_id=%s icp_version_id=%s", tenant_id, version.pk)
    return version.pk


@shared_task(
    name="icp.tasks.rescore_accounts_task",
    acks_late=True,
    time_limit=TASK_TIME_LIMIT_SECONDS,
)
def rescore_accounts_task(tenant_id: int, account_ids: list[int] | None = None) -> int:
    """Rescore the tenant's accounts (all, or `account_ids`) and return how many were written."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.warning("icp.rescore_task.skipped tenant_id=%s reason=tenant_not_found", tenant_id)
        return 0

    with tenant_scope(tenant):
        written = accounts_rescore(tenant=tenant, account_ids=account_ids)
    logger.info("icp.rescore_task.finished tenant_id=%s accounts=%s", tenant_id, written)
    return written


@shared_task(
    name="icp.tasks.rescore_after_activation_task",
    bind=True,
    acks_late=True,
    time_limit=TASK_TIME_LIMIT_SECONDS,
    max_retries=RESCORE_MAX_RETRIES,
)
def rescore_after_activation_task(self, tenant_id: int, version_id: int, job_id: int):
    """Run rescore job `job_id`: the tenant's accounts against `version_id`, then partners.

    Returns the job's result, or None when there was nothing to do. A lost database
    connection is retried; rerunning is safe because only changed fits are written.
    Any other error marks the job failed and is re-raised for Celery.
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.warning("icp.rescore_job.skipped tenant_id=%s reason=tenant_not_found", tenant_id)
        return None
    try:
        return rescoring.rescore_job_run(tenant=tenant, version_id=version_id, job_id=job_id)
    except (OperationalError, InterfaceError) as error:
        _discard_broken_connection()
        attempt = self.request.retries + 1
        if attempt > self.max_retries:
            logger.exception(
                "icp.rescore_job.failed tenant_id=%s icp_version_id=%s job_id=%s attempts=%s",
                tenant_id,
                version_id,
                job_id,
                attempt,
            )
            job_fail(
                job_id=job_id,
                tenant_id=tenant_id,
                message=f"Rescoring failed: the database connection failed {attempt} times "
                f"({error}). Check that PostgreSQL is up, then run "
                f"`manage.py rescore_icp --tenant {tenant.slug}`.",
            )
            raise
        logger.warning(
            "icp.rescore_job.retrying tenant_id=%s icp_version_id=%s job_id=%s attempt=%s error=%s",
            tenant_id,
            version_id,
            job_id,
            attempt,
            error,
        )
        raise self.retry(exc=error, countdown=2**attempt) from error
    except Exception as error:
        logger.exception(
            "icp.rescore_job.failed tenant_id=%s icp_version_id=%s job_id=%s",
            tenant_id,
            version_id,
            job_id,
        )
        job_fail(
            job_id=job_id,
            tenant_id=tenant_id,
            message=f"Rescoring failed with an unexpected error: {error!r}. Accounts written "
            "so far keep their new fit. Fix the cause, then run "
            f"`manage.py rescore_icp --tenant {tenant.slug}` to finish.",
        )
        raise


def _discard_broken_connection() -> None:
    # Outside a transaction, a connection that lost its server is closed, so the next
    # query (the job update, or the retry) opens a new one.
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()


@shared_task(name="icp.tasks.rescore_trigger_tenants_task", acks_late=True)
def rescore_trigger_tenants_task() -> int:
    """Start a rescore job for every tenant whose active version has a buying-trigger criterion.

    A trigger "in the last 180 days" stops matching as days pass, so these scores
    age without any write. Tenants whose rescore job for the version is still queued
    or running are skipped. Returns the number of jobs started.
    """
    # NOTE: this is a cross-tenant read of versions: it only finds which tenants need
    # a job, and each job then runs inside its own tenant's scope.
    versions = IcpVersion.all_tenants.filter(
        status=IcpVersion.Status.ACTIVE, criteria__contains=[{"kind": "trigger"}]
    ).select_related("tenant")
    started = 0
    for version in versions:
        subject = rescoring.job_subject(version.pk)
        pending = Job.all_tenants.filter(
            tenant_id=version.tenant_id,
            kind=Job.Kind.ICP_RESCORE,
            subject=subject,
            status__in=[Job.Status.QUEUED, Job.Status.RUNNING],
            updated_at__gte=timezone.now() - datetime.timedelta(hours=PENDING_JOB_HOURS),
        )
        if pending.exists():
            logger.info(
                "icp.trigger_rescore.skipped tenant_id=%s icp_version_id=%s reason=job_pending",
                version.tenant_id,
                version.pk,
            )
            continue
        with transaction.atomic():
            job = rescoring.rescore_job_enqueue(tenant=version.tenant, version=version)
        logger.info(
            "icp.trigger_rescore.started tenant_id=%s icp_version_id=%s job_id=%s",
            version.tenant_id,
            version.pk,
            job.pk,
        )
        started += 1
    return started
