"""Billing connections and the webhook events they receive."""

from __future__ import annotations

from django.db import models

from tenancy.models import TenantOwnedModel


class BillingConnection(TenantOwnedModel):
    """A tenant's webhook endpoint for one billing provider, such as a Stripe account."""

    class Provider(models.TextChoices):
        STRIPE = "stripe", "Stripe"

    provider = models.CharField(max_length=20, choices=Provider.choices)
    name = models.CharField(max_length=100)
    # The random part of the webhook URL, /billing/<provider>/<token>/. It identifies the
    # tenant without a login, so it is unique across tenants; the signature is what
    # proves a request comes from the provider.
    token = models.CharField(max_length=64, unique=True)
    # The provider's endpoint signing secret, such as Stripe's "whsec_…". The HMAC check
    # needs the secret itself, so it is stored as sent and never returned or logged.
    # NOTE: stored in plain text in the database, like any HMAC key the server must use.
    signing_secret = models.CharField(max_length=200)
    # The secret a rotation replaced, accepted until `previous_secret_expires_at`, because
    # the provider signs with both secrets for a while after the roll.
    previous_signing_secret = models.CharField(max_length=200, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"],
                name="billingconnection_unique_tenant_name",
                violation_error_message="A billing connection with this name already exists.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} connection {self.name}"


class BillingEvent(TenantOwnedModel):
    """One webhook event a connection received, stored before it is processed."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        UNMATCHED = "unmatched", "Unmatched"
        FAILED = "failed", "Failed"

    connection = models.ForeignKey(
        BillingConnection, on_delete=models.PROTECT, related_name="events"
    )
    provider = models.CharField(max_length=20, choices=BillingConnection.Provider.choices)
    # The provider's event id, such as "evt_…"; a second delivery of it is a duplicate.
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    # When the provider created the event.
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    # Why the event was ignored, unmatched or failed, in words for the billing page.
    error = models.TextField(blank=True)
    # What processing wrote, such as ["deal stripe:in_123 (new)"].
    outcome = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField()
    # Provider object ids found in the payload. Refunds and cancellations name only a
    # charge or a customer, so they are traced back through earlier events.
    customer_ref = models.CharField(max_length=255, blank=True)
    invoice_ref = models.CharField(max_length=255, blank=True)
    charge_ref = models.CharField(max_length=255, blank=True)
    payment_intent_ref = models.CharField(max_length=255, blank=True)
    # The account an invoice event was matched to, which later events of the same
    # customer reuse.
    account = models.ForeignKey(
        "crm.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "provider", "event_id"],
                name="billingevent_unique_tenant_provider_event",
                violation_error_message="This event is already stored.",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-received_at"], name="billingevent_tenant_received"),
            models.Index(fields=["tenant", "status"], name="billingevent_tenant_status"),
            models.Index(fields=["tenant", "customer_ref"], name="billingevent_tenant_customer"),
            models.Index(fields=["tenant", "charge_ref"], name="billingevent_tenant_charge"),
            models.Index(
                fields=["tenant", "payment_intent_ref"], name="billingevent_tenant_intent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"
