"""Celery tasks of billing webhooks; each one is safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from billing.processing import billing_event_fail, billing_event_process, billing_events_sweep

logger = logging.getLogger(__name__)

MAX_RETRIES = 5
RETRY_BACKOFF_MAX_SECONDS = 300


@shared_task(bind=True, name="billing.tasks.process_billing_event_task", max_retries=MAX_RETRIES)
def process_billing_event_task(self, tenant_id: int, billing_event_id: int) -> str:
    """Process a stored webhook event; retry lost connections, then mark it failed."""
    try:
        return billing_event_process(tenant_id=tenant_id, billing_event_id=billing_event_id)
    except (OperationalError, InterfaceError) as error:
        if self.request.retries >= self.max_retries:
            billing_event_fail(
                tenant_id=tenant_id,
                billing_event_id=billing_event_id,
                reason=f"Processing failed {self.max_retries + 1} times: {error}",
            )
            return "failed"
        countdown = min(2**self.request.retries * 5, RETRY_BACKOFF_MAX_SECONDS)
        logger.warning(
            "billing_event.retry tenant_id=%s billing_event_id=%s retries=%s countdown=%s",
            tenant_id,
            billing_event_id,
            self.request.retries,
            countdown,
        )
        raise self.retry(exc=error, countdown=countdown) from error
    except Exception as error:
        # Anything else is a fault that a retry would repeat. Marking the event failed
        # shows it on the billing page and keeps the sweep from retrying it forever.
        logger.exception(
            "billing_event.crashed tenant_id=%s billing_event_id=%s",
            tenant_id,
            billing_event_id,
        )
        billing_event_fail(
            tenant_id=tenant_id,
            billing_event_id=billing_event_id,
            reason=f"Processing failed with an internal error: {type(error).__name__}.",
        )
        return "failed"


@shared_task(
    name="billing.tasks.sweep_billing_events_task",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=3,
)
def sweep_billing_events_task() -> int:
    """Process received events whose task was lost, such as while the broker was down."""
    return billing_events_sweep()
