"""Reads of the active tenant's billing connections and events."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse

from billing.models import BillingConnection, BillingEvent
from tenancy.errors import NotFound


def connection_list() -> QuerySet[BillingConnection]:
    """Return the tenant's connections, active ones first, then by name."""
    return BillingConnection.objects.order_by("-is_active", "name", "id")


def connection_get(*, pk: int) -> BillingConnection:
    """Return the tenant's connection `pk`, or raise NotFound, also for another tenant's id."""
    connection = connection_list().filter(pk=pk).first()
    if connection is None:
        raise NotFound(
            "No billing connection has this id.",
            field="id",
            value=pk,
            fix="List connections with GET /api/v1/billing/connections/ to find the id.",
        )
    return connection


def event_list(*, status: str | None = None) -> QuerySet[BillingEvent]:
    """Return the tenant's received events, newest first, optionally of one status."""
    events = BillingEvent.objects.select_related("connection", "account")
    if status:
        events = events.filter(status=status)
    return events.order_by("-received_at", "-id")


def event_get(*, pk: int) -> BillingEvent:
    """Return the tenant's event `pk`, or raise NotFound, also for another tenant's id."""
    event = event_list().filter(pk=pk).first()
    if event is None:
        raise NotFound(
            "No billing event has this id.",
            field="id",
            value=pk,
            fix="List events with GET /api/v1/billing/events/ to find the id.",
        )
    return event


def connection_webhook_url(request, connection: BillingConnection) -> str:
    """Return the absolute URL the provider posts the connection's events to."""
    path = reverse(
        "billing_webhook", kwargs={"provider": connection.provider, "token": connection.token}
    )
    return request.build_absolute_uri(path)
