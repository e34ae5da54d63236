"""Receive a provider's webhook: find the connection, verify, store the event once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.connections import connection_secrets
from billing.models import BillingConnection, BillingEvent
from billing.providers import SignatureInvalid, provider_module
from tenancy.errors import NotFound
from tenancy.queue import enqueue_on_commit
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)


@dataclass
class Receipt:
    event: BillingEvent
    duplicate: bool


def connection_for_token(*, provider: str, token: str) -> BillingConnection:
    """Return the active connection that owns the webhook URL, or raise NotFound.

    This is a lookup across tenants, like an API key's: the token alone names the
    tenant. An unknown, inactive or other provider's token is the same 404.
    """
    connection = (
        BillingConnection.all_tenants.select_related("tenant")
        .filter(provider=provider, token=token, is_active=True)
        .first()
    )
    if connection is None or provider_module(provider) is None:
        # The token is the tenant's URL secret, so only its length is logged.
        logger.info("billing_event.unknown_url provider=%s token_length=%s", provider, len(token))
        raise NotFound(
            "No active billing connection has this webhook URL.",
            field="token",
            value=None,
            fix="Copy the webhook URL from the billing page of Track360 into the provider.",
        )
    return connection


def billing_event_receive(*, provider: str, token: str, request) -> Receipt:
    """Verify one webhook request and store its event; queue processing after commit.

    A second delivery of a stored event id changes nothing and is reported as a
    duplicate. Raises NotFound for an unknown URL and SignatureInvalid for a request
    the provider did not sign, or signed too long ago.
    """
    connection = connection_for_token(provider=provider, token=token)
    module = provider_module(provider)
    now = timezone.now()
    try:
        event = module.verify(request, secrets=connection_secrets(connection, now=now))
    except SignatureInvalid as error:
        logger.warning(
            "billing_event.rejected tenant_id=%s connection_id=%s reason=%s",
            connection.tenant_id,
            connection.pk,
            error.message,
        )
        raise

    with tenant_scope(connection.tenant_id), transaction.atomic():
        BillingConnection.objects.filter(pk=connection.pk).update(last_event_at=now)
        stored = BillingEvent.objects.filter(provider=provider, event_id=event.event_id).first()
        if stored is None:
            try:
                with transaction.atomic():
                    stored = BillingEvent.objects.create(
                        tenant_id=connection.tenant_id,
                        connection=connection,
                        provider=provider,
                        event_id=event.event_id,
                        event_type=event.event_type,
                        occurred_at=event.occurred_at,
                        payload=event.payload,
                        customer_ref=event.refs.get("customer", ""),
                        invoice_ref=event.refs.get("invoice", ""),
                        charge_ref=event.refs.get("charge", ""),
                        payment_intent_ref=event.refs.get("payment_intent", ""),
                    )
            except IntegrityError:
                # A concurrent delivery of the same event stored it first.
                stored = BillingEvent.objects.get(provider=provider, event_id=event.event_id)
            else:
                from billing.tasks import process_billing_event_task

                enqueue_on_commit(process_billing_event_task, connection.tenant_id, stored.pk)
                logger.info(
                    "billing_event.received tenant_id=%s connection_id=%s billing_event_id=%s "
                    "event_id=%s type=%s",
                    connection.tenant_id,
                    connection.pk,
                    stored.pk,
                    event.event_id,
                    event.event_type,
                )
                return Receipt(event=stored, duplicate=False)
    logger.info(
        "billing_event.duplicate tenant_id=%s billing_event_id=%s event_id=%s",
        connection.tenant_id,
        stored.pk,
        event.event_id,
    )
    return Receipt(event=stored, duplicate=True)
