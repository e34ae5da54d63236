"""Reads of outgoing webhooks for the API and the delivery log page."""

from __future__ import annotations

from django.db.models import QuerySet

from tenancy.shortcuts import get_for_tenant_or_404
from webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("pk")


def endpoint_get(*, pk: int) -> WebhookEndpoint:
    return get_for_tenant_or_404(WebhookEndpoint, pk=pk)


def delivery_list(
    *, endpoint_id: int | None = None, status: str | None = None, event_type: str | None = None
) -> QuerySet[WebhookDelivery]:
    """Return the active tenant's deliveries, newest first, optionally filtered."""
    rows = WebhookDelivery.objects.select_related("event", "endpoint").order_by("-pk")
    if endpoint_id is not None:
        rows = rows.filter(endpoint_id=endpoint_id)
    if status:
        rows = rows.filter(status=status)
    if event_type:
        rows = rows.filter(event__type=event_type)
    return rows


def delivery_get(*, pk: int) -> WebhookDelivery:
    return get_for_tenant_or_404(WebhookDelivery.objects.select_related("event", "endpoint"), pk=pk)
