"""Billing connections: create, rotate the signing secret, deactivate."""

from __future__ import annotations

import datetime
import logging
import secrets

from django.db import transaction
from django.utils import timezone

from billing.models import BillingConnection
from tenancy.errors import Conflict, DomainError
from tenancy.scope import tenant_scope
from tenancy.services import audit_record

logger = logging.getLogger(__name__)

# Stripe keeps signing with the old secret for at most 24 hours after a roll.
MAX_PREVIOUS_SECRET_HOURS = 24
SECRET_PREFIXES = {BillingConnection.Provider.STRIPE: "whsec_"}
MIN_SECRET_LENGTH = 16


def _secret_check(provider: str, secret: str) -> str:
    secret = secret.strip()
    prefix = SECRET_PREFIXES.get(provider, "")
    if not secret.startswith(prefix) or len(secret) < MIN_SECRET_LENGTH:
        # The value is a secret, so the error never echoes it.
        raise DomainError(
            f"The signing secret is not a {provider} endpoint secret: it must start with "
            f"{prefix!r} and have at least {MIN_SECRET_LENGTH} characters.",
            field="signing_secret",
            value=None,
            fix=f"Copy the endpoint's whole signing secret, which starts with {prefix!r}, "
            "from the provider's webhook settings.",
        )
    return secret


def _audit_values(connection: BillingConnection) -> dict:
    return {
        "provider": connection.provider,
        "name": connection.name,
        "is_active": connection.is_active,
    }


@transaction.atomic
def billing_connection_create(
    *, tenant, provider: str, name: str, signing_secret: str, actor=None
) -> BillingConnection:
    """Create an active connection with a new random URL token."""
    if provider not in BillingConnection.Provider.values:
        raise DomainError(
            f"Track360 has no billing provider {provider!r}.",
            field="provider",
            value=provider,
            fix="Send one of: " + ", ".join(BillingConnection.Provider.values) + ".",
        )
    name = name.strip()
    if not name:
        raise DomainError(
            "A billing connection needs a name.",
            field="name",
            value=name,
            fix="Name the connection after the billing account, such as 'Stripe live'.",
        )
    secret = _secret_check(provider, signing_secret)
    with tenant_scope(tenant):
        return _connection_insert(tenant, provider=provider, name=name, secret=secret, actor=actor)


def _connection_insert(
    tenant, *, provider: str, name: str, secret: str, actor
) -> BillingConnection:
    if BillingConnection.objects.filter(name=name).exists():
        raise Conflict(
            f"A billing connection named {name!r} already exists.",
            field="name",
            value=name,
            fix="Choose another name, or rotate the secret of the existing connection.",
        )
    connection = BillingConnection.objects.create(
        tenant=tenant,
        provider=provider,
        name=name,
        token=secrets.token_urlsafe(32),
        signing_secret=secret,
    )
    audit_record(
        tenant_id=tenant.pk,
        actor=actor,
        event="billing_connection.created",
        obj=connection,
        after=_audit_values(connection),
    )
    logger.info(
        "billing_connection.created tenant_id=%s connection_id=%s provider=%s",
        tenant.pk,
        connection.pk,
        provider,
    )
    return connection


@transaction.atomic
def billing_connection_rotate(
    *, connection_id: int, signing_secret: str, keep_previous_hours: int = 0, actor=None
) -> BillingConnection:
    """Replace the signing secret; the old one stays valid for `keep_previous_hours`."""
    connection = BillingConnection.objects.select_for_update().get(pk=connection_id)
    secret = _secret_check(connection.provider, signing_secret)
    if not 0 <= keep_previous_hours <= MAX_PREVIOUS_SECRET_HOURS:
        raise DomainError(
            f"keep_previous_hours is {keep_previous_hours}, outside 0 to "
            f"{MAX_PREVIOUS_SECRET_HOURS}.",
            field="keep_previous_hours",
            value=keep_previous_hours,
            fix="Send the hours the provider still signs with the old secret, "
            f"at most {MAX_PREVIOUS_SECRET_HOURS}.",
        )

    now = timezone.now()
    if keep_previous_hours:
        connection.previous_signing_secret = connection.signing_secret
        connection.previous_secret_expires_at = now + datetime.timedelta(hours=keep_previous_hours)
    else:
        connection.previous_signing_secret = ""
        connection.previous_secret_expires_at = None
    connection.signing_secret = secret
    connection.secret_rotated_at = now
    connection.save()

    audit_record(
        tenant_id=connection.tenant_id,
        actor=actor,
        event="billing_connection.secret_rotated",
        obj=connection,
        after={"keep_previous_hours": keep_previous_hours},
    )
    logger.info(
        "billing_connection.secret_rotated tenant_id=%s connection_id=%s keep_previous_hours=%s",
        connection.tenant_id,
        connection.pk,
        keep_previous_hours,
    )
    return connection


@transaction.atomic
def billing_connection_deactivate(*, connection_id: int, actor=None) -> BillingConnection:
    """Stop accepting webhooks on the connection; its URL then returns 404."""
    connection = BillingConnection.objects.select_for_update().get(pk=connection_id)
    if not connection.is_active:
        return connection
    before = _audit_values(connection)
    connection.is_active = False
    connection.save(update_fields=["is_active", "updated_at"])
    audit_record(
        tenant_id=connection.tenant_id,
        actor=actor,
        event="billing_connection.deactivated",
        obj=connection,
        before=before,
        after=_audit_values(connection),
    )
    logger.info(
        "billing_connection.deactivated tenant_id=%s connection_id=%s",
        connection.tenant_id,
        connection.pk,
    )
    return connection


def connection_secrets(connection: BillingConnection, *, now: datetime.datetime) -> list[str]:
    """Return the secrets a delivery may be signed with: the current one, then the previous."""
    accepted = [connection.signing_secret]
    expires_at = connection.previous_secret_expires_at
    if connection.previous_signing_secret and expires_at is not None and expires_at > now:
        accepted.append(connection.previous_signing_secret)
    return accepted
