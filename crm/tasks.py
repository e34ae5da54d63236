"""Celery tasks of the won-deal pipeline; each one is safe to run twice."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from crm.models import Deal
from crm.pipeline import deals_process
from icp import services as icp_services
from partners import services as partner_services
from partners.recompute import partner_scores_enqueue
from reporting.services import partner_rollups_refresh
from tenancy.models import Tenant
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

PIPELINE_TIME_LIMIT_SECONDS = 600
# Lost database connections are retried with backoff; every task is idempotent, so a
# retry after a partial run only finishes what is left.
PIPELINE_TASK_OPTIONS = {
    "time_limit": PIPELINE_TIME_LIMIT_SECONDS,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 5,
}


@shared_task(name="crm.tasks.process_won_deal_task", **PIPELINE_TASK_OPTIONS)
def process_won_deal_task(tenant_id: int, deal_id: int) -> int:
    return deals_process(tenant_id=tenant_id, deal_ids=[deal_id])


@shared_task(name="crm.tasks.process_pending_deals_task", **PIPELINE_TASK_OPTIONS)
def process_pending_deals_task(tenant_id: int) -> int:
    """Process an import's won deals, then refresh every partner's roll-up and scores.

    Imported lost and open deals are attributed too, and they change the roll-ups,
    win rates and pipeline overlap of partners that had no won deal in the file.
    """
    processed = deals_process(tenant_id=tenant_id)
    with tenant_scope(tenant_id):
        partner_rollups_refresh()
    partner_scores_enqueue(tenant_id=tenant_id)
    return processed


@shared_task(name="crm.tasks.sweep_pending_deals_task", **PIPELINE_TASK_OPTIONS)
def sweep_pending_deals_task() -> int:
    """Process won deals whose task never ran, for example while Redis was down."""
    cutoff = timezone.now() - datetime.timedelta(seconds=settings.TRACK360_SWEEP_GRACE_SECONDS)
    # NOTE: this is the one cross-tenant read of deals: it only finds which tenants
    # have work, then processes each inside its own scope.
    tenant_ids = sorted(
        set(
            Deal.all_tenants.filter(
                pipeline_status=Deal.PipelineStatus.PENDING, updated_at__lt=cutoff
            ).values_list("tenant_id", flat=True)
        )
    )
    total = 0
    for tenant_id in tenant_ids:
        try:
            processed = deals_process(tenant_id=tenant_id)
        except Exception:
            # One tenant's trouble must not stop the sweep for the others.
            logger.exception("sweep.tenant_failed tenant_id=%s", tenant_id)
            continue
        logger.info("sweep.tenant_done tenant_id=%s processed=%s", tenant_id, processed)
        total += processed
    return total


@shared_task(name="crm.tasks.refresh_after_account_import_task", **PIPELINE_TASK_OPTIONS)
def refresh_after_account_import_task(tenant_id: int) -> int:
    """Rescore the tenant's accounts, then re-match reach lists and partner scores."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.warning("account_import_refresh.tenant_missing tenant_id=%s", tenant_id)
        return 0
    with tenant_scope(tenant):
        rescored = icp_services.accounts_rescore(tenant=tenant)
        partner_services.partner_scores_refresh(tenant=tenant)
    return rescored


IMPORT_TIME_LIMIT_SECONDS = 2 * 60 * 60
IMPORT_MAX_RETRIES = 3


@shared_task(
    name="crm.tasks.csv_import_task",
    bind=True,
    acks_late=True,
    time_limit=IMPORT_TIME_LIMIT_SECONDS,
    max_retries=IMPORT_MAX_RETRIES,
)
def csv_import_task(self, tenant_id: int, import_id: int, job_id: int):
    """Run queued import `import_id` and report its progress to job `job_id`.

    A lost database connection is retried from the start: a strict import's
    writes were rolled back, and a lenient import's upserts write the same values
    again. Any other error marks the job and the run failed and is re-raised.
    """
    from crm.importing.uploads import import_job_run

    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.warning("import.job_skipped tenant_id=%s reason=tenant_not_found", tenant_id)
        return None
    try:
        run = import_job_run(tenant=tenant, import_id=import_id, job_id=job_id)
    except (OperationalError, InterfaceError) as error:
        attempt = self.request.retries + 1
        if attempt <= self.max_retries:
            logger.warning(
                "import.job_retry tenant_id=%s import_id=%s job_id=%s attempt=%s error=%s",
                tenant_id,
                import_id,
                job_id,
                attempt,
                error,
            )
            raise self.retry(exc=error, countdown=min(60, 5 * attempt)) from error
        logger.exception(
            "import.job_failed tenant_id=%s import_id=%s job_id=%s", tenant_id, import_id, job_id
        )
        _import_fail(tenant_id, import_id, job_id, f"the database connection failed ({error})")
        raise
    except Exception as error:
        logger.exception(
            "import.job_failed tenant_id=%s import_id=%s job_id=%s", tenant_id, import_id, job_id
        )
        _import_fail(tenant_id, import_id, job_id, str(error) or type(error).__name__)
        raise
    return None if run is None else run.pk


def _import_fail(tenant_id: int, import_id: int, job_id: int, reason: str) -> None:
    from crm.importing.uploads import import_dir
    from crm.models import ImportRun
    from jobs.services import job_fail

    message = (
        f"The import stopped: {reason}. A strict import wrote nothing; a lenient one "
        "kept the chunks it had committed. Upload the file again: rows already written "
        "are matched on their keys, not duplicated."
    )
    runs = ImportRun.all_tenants.filter(pk=import_id, tenant_id=tenant_id)
    stored = runs.values_list("stored_file", flat=True).first()
    if stored:
        (import_dir() / stored).unlink(missing_ok=True)
    runs.exclude(status__in=ImportRun.FINISHED).update(
        status=ImportRun.Status.FAILED,
        errors=[{"line": 0, "column": "", "value": "", "message": message}],
        stored_file="",
        updated_at=timezone.now(),
    )
    job_fail(job_id=job_id, tenant_id=tenant_id, message=message)
