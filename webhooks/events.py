"""Emitting webhook events from the services that change things.

`event_emit` is the one entry point. It waits for the caller's transaction to
commit, then writes one event per object and one delivery per subscribed
endpoint, each with a single `bulk_create`, and starts the sending task. A tenant
without an active endpoint for the type costs one query and builds no payload.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from functools import partial

from django.db import transaction
from django.utils import timezone

from tenancy.queue import enqueue_on_commit
from tenancy.scope import tenant_scope
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)

Payload = dict | list[dict]

# The payload fields that identify one change of one object. A second event with
# the same values is not written, so a service that runs twice emits once. Event
# types not listed here (ping) always write a new event.
KEY_FIELDS = {
    EventType.DEAL_SCORED: ("id",),
    EventType.COMMISSION_CREATED: ("id",),
    EventType.COMMISSION_REVERSED: ("id",),
    EventType.PAYOUT_APPROVED: ("id",),
    EventType.PARTNER_SCORED: ("partner_id", "computed_at"),
}
INSERT_BATCH_SIZE = 2000


def event_emit(tenant_id: int, event_type: str, payload: Payload | Callable[[], Payload]) -> None:
    """Emit `event_type` events for the tenant once the current transaction commits.

    `payload` is one event's data, a list with one data dict per object, or a
    function that returns either. The function runs after the commit, in the
    tenant's scope, and only when an active endpoint subscribes to the type, so
    callers pass `functools.partial(builder, ids)` to build nothing for tenants
    without webhooks.
    """
    transaction.on_commit(partial(_emit_committed, tenant_id, event_type, payload))


def _emit_committed(tenant_id: int, event_type: str, payload) -> None:
    # This runs after the caller's commit, so an error here must not reach the
    # caller, whose work is already stored.
    try:
        events_write(tenant_id=tenant_id, event_type=event_type, payload=payload)
    except Exception:
        # NOTE: the events of this commit are lost; nothing writes them later.
        logger.exception("webhooks.emit_failed tenant_id=%s type=%s", tenant_id, event_type)


def subscribed_endpoint_ids(*, tenant_id: int, event_type: str) -> list[int]:
    return list(
        WebhookEndpoint.all_tenants.filter(
            tenant_id=tenant_id, is_active=True, event_types__contains=[event_type]
        ).values_list("pk", flat=True)
    )


def _event_key(event_type: str, data: dict) -> str | None:
    fields = KEY_FIELDS.get(event_type)
    if not fields or any(data.get(field) is None for field in fields):
        return None
    parts = []
    for field in fields:
        value = data[field]
        parts.append(value.isoformat() if hasattr(value, "isoformat") else str(value))
    return f"{event_type}:{':'.join(parts)}"


def events_write(
    *,
    tenant_id: int,
    event_type: str,
    payload,
    endpoint_ids: list[int] | None = None,
    enqueue: bool = True,
) -> list[int]:
    """Write the events and their deliveries now; return the new delivery ids.

    `endpoint_ids` defaults to the tenant's active endpoints subscribed to the
    type. Events whose key is already stored are skipped with their deliveries.
    With `enqueue`, the sending task starts once this commits; without it, the
    caller sends them, or the periodic task does.
    """
    if endpoint_ids is None:
        endpoint_ids = subscribed_endpoint_ids(tenant_id=tenant_id, event_type=event_type)
    if not endpoint_ids:
        return []
    with tenant_scope(tenant_id):
        data = payload() if callable(payload) else payload
    rows = [data] if isinstance(data, dict) else list(data)
    if not rows:
        return []

    events = [
        WebhookEvent(
            tenant_id=tenant_id,
            uuid=uuid.uuid4(),
            type=event_type,
            key=_event_key(event_type, row),
            payload=row,
        )
        for row in rows
    ]
    now = timezone.now()
    with transaction.atomic():
        WebhookEvent.all_tenants.bulk_create(
            events, batch_size=INSERT_BATCH_SIZE, ignore_conflicts=True
        )
        # Conflicting events were not inserted, so only new uuids come back.
        event_ids = list(
            WebhookEvent.all_tenants.filter(
                tenant_id=tenant_id, uuid__in=[event.uuid for event in events]
            ).values_list("pk", flat=True)
        )
        deliveries = WebhookDelivery.all_tenants.bulk_create(
            [
                WebhookDelivery(
                    tenant_id=tenant_id,
                    event_id=event_id,
                    endpoint_id=endpoint_id,
                    next_attempt_at=now,
                )
                for event_id in event_ids
                for endpoint_id in endpoint_ids
            ],
            batch_size=INSERT_BATCH_SIZE,
        )
        delivery_ids = [delivery.pk for delivery in deliveries]
        if delivery_ids and enqueue:
            from webhooks.tasks import send_webhook_deliveries_task

            enqueue_on_commit(send_webhook_deliveries_task, delivery_ids=delivery_ids)
    logger.info(
        "webhooks.events_written tenant_id=%s type=%s events=%s skipped=%s deliveries=%s",
        tenant_id,
        event_type,
        len(event_ids),
        len(events) - len(event_ids),
        len(delivery_ids),
    )
    return delivery_ids
