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
from icp.services import LEARN_STEPS, accounts_rescore, icp_learn
from jobs.models import Job
from jobs.services import job_fail, job_start
from tenancy.errors import DomainError
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

# A queued or running learn job with no write for this long has lost its task: the
# time limit has killed any run by then.
LEARN_JOB_STALE_SECONDS = TASK_TIME_LIMIT_SECONDS + 5 * 60

DATABASE_ERRORS = (OperationalError, InterfaceError)
LEARN_JOB_MAX_RETRIES = 5


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
    bind=True,
    name="icp.tasks.learn_icp_job_task",
    acks_late=True,
    time_limit=TASK_TIME_LIMIT_SECONDS,
    autoretry_for=DATABASE_ERRORS,
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=LEARN_JOB_MAX_RETRIES,
)
def learn_icp_job_task(
    self, job_id: int, tenant_id: int, weighting: str = "none", name: str | None = None
) -> int | None:
    """Run the learn job `job_id`: learn a draft and report progress, success or failure.

    Returns the new version's id, or None when the job is finished or gone (such as a
    redelivered task whose draft is already stored) or learning was rejected. A lost
    database connection is retried with backoff and fails the job after the last
    retry. Any other unexpected error fails the job and is raised again.
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.warning(
            "icp.learn_job.skipped job_id=%s tenant_id=%s reason=tenant_not_found",
            job_id,
            tenant_id,
        )
        return None
    if not job_start(
        job_id=job_id, tenant_id=tenant_id, stage="Loading closed deals", total=LEARN_STEPS
    ):
        return None

    creator_id = (
        Job.all_tenants.filter(pk=job_id, tenant_id=tenant_id)
        .values_list("created_by_id", flat=True)
        .first()
    )
    actor = get_user_model().objects.filter(pk=creator_id).first() if creator_id else None
    try:
        with tenant_scope(tenant):
            version = icp_learn(
                tenant=tenant, actor=actor, name=name, weighting=weighting, job_id=job_id
            )
    except DomainError as error:
        # InsufficientData and invalid input fail the job with their message, without a retry.
        logger.warning(
            "icp.learn_job.rejected job_id=%s tenant_id=%s reason=%s",
            job_id,
            tenant_id,
            error.message,
        )
        job_fail(job_id=job_id, tenant_id=tenant_id, message=_error_text(error))
        return None
    except DATABASE_ERRORS:
        if self.request.retries >= self.max_retries:
            logger.exception("icp.learn_job.gave_up job_id=%s tenant_id=%s", job_id, tenant_id)
            _fail_quietly(
                job_id,
                tenant_id,
                "Learning failed because the database stayed unreachable after "
                f"{self.max_retries} retries. Start it again once the database is back.",
            )
        else:
            logger.warning(
                "icp.learn_job.retrying job_id=%s tenant_id=%s retry=%s",
                job_id,
                tenant_id,
                self.request.retries + 1,
            )
        raise
    except Exception as error:
        logger.exception("icp.learn_job.failed job_id=%s tenant_id=%s", job_id, tenant_id)
        _fail_quietly(
            job_id,
            tenant_id,
            f"Learning failed with an unexpected error ({type(error).__name__}). It is logged "
            f"with job id {job_id}: try again, and report it if it happens again.",
        )
        raise
    logger.info(
        "icp.learn_job.finished job_id=%s tenant_id=%s icp_version_id=%s",
        job_id,
        tenant_id,
        version.pk,
    )
    return version.pk


def _error_text(error: DomainError) -> str:
    return f"{error.message} {error.fix}" if error.fix else error.message


def _fail_quietly(job_id: int, tenant_id: int, message: str) -> None:
    """Mark the job failed; log, and go on, when the database rejects that write too."""
    try:
        job_fail(job_id=job_id, tenant_id=tenant_id, message=message)
    except DATABASE_ERRORS:
        logger.exception("icp.learn_job.fail_not_written job_id=%s tenant_id=%s", job_id, tenant_id)


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
