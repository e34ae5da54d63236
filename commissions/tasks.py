"""Celery tasks of the commission ledger; each one is safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from commissions.approval import entries_release_due_all
from commissions.reversals import revenue_event_process, revenue_events_sweep
from commissions.simulation_jobs import simulation_run


@shared_task(
    name="commissions.tasks.revenue_event_process_task",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=5,
)
def revenue_event_process_task(tenant_id: int, event_id: int) -> int:
    """Write the reversals of a refund or churn event once it is committed."""
    # An event whose task was never sent (broker down) is left to the sweep below.
    return revenue_event_process(tenant_id=tenant_id, event_id=event_id)


@shared_task(name="commissions.tasks.release_due_entries_task")
def release_due_entries_task() -> int:
    """Approve every tenant's pending accruals whose holding period has passed."""
    return entries_release_due_all()


@shared_task(
    name="commissions.tasks.sweep_revenue_events_task",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=3,
)
def sweep_revenue_events_task() -> int:
    """Process every tenant's refund and churn events still unprocessed after a minute."""
    return revenue_events_sweep()


@shared_task(
    name="commissions.tasks.plan_simulation_task",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=3,
)
def plan_simulation_task(job_id: int, tenant_id: int) -> bool:
    """Run a plan simulation job and store its report on the job."""
    return simulation_run(job_id=job_id, tenant_id=tenant_id)
