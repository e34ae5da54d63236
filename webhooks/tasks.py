"""Celery tasks of outgoing webhooks; each one is safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from webhooks.delivery import deliveries_send

# Batches one beat run sends before it stops, so runs stay short; the next run
# continues with what is still due.
BEAT_MAX_BATCHES = 20


@shared_task(
    name="webhooks.tasks.send_webhook_deliveries_task",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=3,
)
def send_webhook_deliveries_task(delivery_ids: list[int] | None = None) -> int:
    """Send due deliveries: the given ones, or any tenant's when `delivery_ids` is None."""
    max_batches = None if delivery_ids is not None else BEAT_MAX_BATCHES
    return deliveries_send(delivery_ids=delivery_ids, max_batches=max_batches)
