"""Outgoing webhooks: tenants' endpoints, the events they subscribe to and each delivery."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from tenancy.models import TenantOwnedModel


class EventType(models.TextChoices):
    DEAL_SCORED = "deal.scored", "A won deal was booked with its frozen fit"
    COMMISSION_CREATED = "commission.created", "A commission accrual was written"
    COMMISSION_REVERSED = "commission.reversed", "A refund or churn reversal was written"
    PAYOUT_APPROVED = "payout.approved", "A payout was approved"
    PARTNER_SCORED = "partner.scored", "A partner's ICP overlap score was refreshed"
    # Sent only by the endpoint test; no endpoint subscribes to it.
    PING = "ping", "Test event"


class WebhookEndpoint(TenantOwnedModel):
    """A URL of the tenant that receives signed POSTs of the events it subscribes to."""

    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Event type values from `EventType`, without "ping", such as ["deal.scored"].
    event_types = models.JSONField(default=list)
    # The HMAC-SHA256 key of the signature header, returned only on create and rotate.
    # NOTE: stored as plain text, because signing needs the raw value and no
    # encryption library is installed; database access reveals it.
    secret = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "url"], name="webhook_endpoint_unique_url"),
        ]

    def __str__(self) -> str:
        return self.url


class WebhookEvent(TenantOwnedModel):
    """One thing that happened to one object, as sent to every subscribed endpoint."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    # Identifies the change, such as "commission.created:812", so a rerun of the
    # service that emitted it adds no second event. Null for events that may repeat.
    key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    # The event's `data`: decimals as strings, dates and times in ISO 8601.
    payload = models.JSONField(encoder=DjangoJSONEncoder)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="webhook_event_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.uuid}"


class WebhookDelivery(TenantOwnedModel):
    """The sending of one event to one endpoint, with its attempts so far."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        # The last attempt failed and another is scheduled at next_attempt_at.
        FAILED = "failed", "Failed, retrying"
        SUCCEEDED = "succeeded", "Succeeded"
        # Every attempt failed, or the endpoint was inactive when it was due. Only a
        # replay sends it again.
        DEAD = "dead", "Dead"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When a worker may send it next; null once it succeeded or is dead. A worker
    # that claims it moves this forward by the claim lease, so no other worker takes it.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # The start of the last response body, truncated.
    last_response_excerpt = models.CharField(max_length=500, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "event", "endpoint"], name="webhook_delivery_unique_endpoint"
            ),
        ]
        indexes = [
            # The worker's query for due deliveries reads across tenants.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "failed"]),
                name="webhook_delivery_due",
            ),
            models.Index(fields=["tenant", "-created_at"], name="webhook_delivery_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} → {self.endpoint.url} ({self.status})"
