"""Writes for tenants, memberships, API keys and the audit trail."""

from __future__ import annotations

import datetime
import logging
import re
import secrets
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tenancy.api.scopes import FULL_ACCESS, scopes_validate
from tenancy.errors import Conflict, DomainError
from tenancy.models import ApiKey, AuditEvent, Membership, Tenant
from tenancy.scope import tenant_scope
from tenancy.selectors import api_key_digest

logger = logging.getLogger(__name__)

API_KEY_PREFIX = "t360_"


def actor_user(actor):
    """Return `actor` when it is a user account, else None (for API keys and workers)."""
    return actor if isinstance(actor, get_user_model()) and actor.pk is not None else None


def actor_label(actor) -> str:
    """Return how the audit trail names an actor that is not a user, such as an API key."""
    if actor is None or actor_user(actor) is not None:
        return ""
    return actor.get_username() if hasattr(actor, "get_username") else str(actor)


def audit_record(
    *,
    tenant_id: int,
    actor=None,
    label: str = "",
    event: str,
    obj,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one audit event for a change to `obj`."""
    return AuditEvent.all_tenants.create(
        tenant_id=tenant_id,
        actor=actor_user(actor),
        actor_label=label or actor_label(actor),
        event=event,
        object_type=obj._meta.label,
        object_id=str(obj.pk),
        before=before,
        after=after,
    )


@transaction.atomic
def tenant_create(*, name: str, slug: str, base_currency: str = "USD") -> Tenant:
    tenant, created = Tenant.objects.get_or_create(
        slug=slug, defaults={"name": name, "base_currency": base_currency}
    )
    if created:
        logger.info("tenant.created tenant_id=%s slug=%s", tenant.pk, slug)
    return tenant


@transaction.atomic
def membership_set(*, tenant: Tenant, user, role: str, partner=None, actor=None) -> Membership:
    """Give `user` the `role` in `tenant`, replacing any earlier role there."""
    if role not in Membership.Role.values:
        raise DomainError(
            f"Unknown role {role!r}.",
            field="role",
            value=role,
            fix=f"Use one of {', '.join(Membership.Role.values)}.",
        )
    if (role == Membership.Role.PARTNER) != (partner is not None):
        raise DomainError(
            "Partner users need a partner and staff roles take none.",
            field="partner",
            value=getattr(partner, "pk", None),
            fix="Pass a partner exactly when the role is 'partner'.",
        )
    existing = Membership.objects.filter(tenant=tenant, user=user).first()
    before = {"role": existing.role} if existing else None
    membership, _ = Membership.objects.update_or_create(
        tenant=tenant, user=user, defaults={"role": role, "partner": partner}
    )
    audit_record(
        tenant_id=tenant.pk,
        actor=actor,
        event="membership.set",
        obj=membership,
        before=before,
        after={
            "role": role,
            "user": user.get_username(),
            "partner_id": getattr(partner, "pk", None),
        },
    )
    return membership


def user_ensure(*, username: str, email: str, password: str):
    """Create the user if missing and set the password; return it."""
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username, defaults={"email": email})
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


API_KEY_RATE_PATTERN = re.compile(r"^([1-9][0-9]{0,6})/(s|sec|second|m|min|minute|h|hour|d|day)$")
API_KEY_MAX_DAYS = 3650
# `last_used_at` is written at most this often per key, so most requests write nothing.
API_KEY_LAST_USED_RESOLUTION = datetime.timedelta(seconds=60)


def api_key_rate_validate(rate: str) -> str:
    """Return `rate` stripped, or raise DomainError unless it reads like "600/min"."""
    if not isinstance(rate, str):
        raise DomainError(
            f"Rate {rate!r} is not text.",
            field="rate",
            value=rate,
            fix="Send a rate such as '600/min', or leave it empty for the default.",
        )
    rate = rate.strip()
    if rate and not API_KEY_RATE_PATTERN.match(rate):
        raise DomainError(
            f"Invalid rate {rate!r}.",
            field="rate",
            value=rate,
            fix="Send requests per period, such as '600/min', '20/s', '10000/hour' or "
            "'100000/day', or leave it empty for the default.",
        )
    return rate


def api_key_expiry_validate(expires_at: datetime.datetime | None) -> datetime.datetime | None:
    """Return `expires_at`, or raise DomainError unless it lies in the next ten years."""
    if expires_at is None:
        return None
    now = timezone.now()
    if expires_at <= now or expires_at > now + datetime.timedelta(days=API_KEY_MAX_DAYS):
        raise DomainError(
            f"Expiry {expires_at.isoformat()} is not in the next {API_KEY_MAX_DAYS} days.",
            field="expires_at",
            value=expires_at.isoformat(),
            fix=f"Choose a time from now to {API_KEY_MAX_DAYS} days ahead, or none for a "
            "key that does not expire.",
        )
    return expires_at


@transaction.atomic
def api_key_create(
    *,
    tenant: Tenant,
    name: str,
    actor=None,
    raw_key: str | None = None,
    scopes=(FULL_ACCESS,),
    expires_at: datetime.datetime | None = None,
    rate: str = "",
):
    """Create an API key and return `(key, raw_key)`; the raw key is shown only once.

    `scopes` defaults to full access ("*:write") for callers inside the product, such
    as the demo loader. The dashboard and the API make the creator choose. Raises
    DomainError for a taken name, invalid scopes, a past expiry or an invalid rate.
    """
    name = name.strip() if isinstance(name, str) else name
    if not name:
        raise DomainError(
            "An API key needs a name.",
            field="name",
            value=name,
            fix="Name the key after what uses it, such as 'CRM sync'.",
        )
    scopes = scopes_validate(scopes)
    expires_at = api_key_expiry_validate(expires_at)
    rate = api_key_rate_validate(rate)
    raw_key = raw_key or API_KEY_PREFIX + secrets.token_urlsafe(32)
    with tenant_scope(tenant):
        if ApiKey.objects.filter(name=name).exists():
            raise Conflict(
                f"An API key named {name!r} already exists.",
                field="name",
                value=name,
                fix="Choose another name or revoke the existing key first.",
            )
        key = ApiKey.objects.create(
            tenant=tenant,
            name=name,
            prefix=raw_key[: len(API_KEY_PREFIX) + 6],
            digest=api_key_digest(raw_key),
            created_by=actor_user(actor),
            scopes=scopes,
            expires_at=expires_at,
            rate=rate,
        )
    audit_record(
        tenant_id=tenant.pk,
        actor=actor,
        event="api_key.created",
        obj=key,
        after={
            "name": name,
            "prefix": key.prefix,
            "scopes": scopes,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "rate": rate,
        },
    )
    logger.info(
        "api_key.created tenant_id=%s api_key_id=%s scopes=%s expires_at=%s",
        tenant.pk,
        key.pk,
        ",".join(scopes),
        expires_at.isoformat() if expires_at else "never",
    )
    return key, raw_key


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor=None) -> ApiKey:
    """Revoke `key` from now on; revoking a revoked key changes nothing."""
    locked = ApiKey.all_tenants.select_for_update().get(pk=key.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            tenant_id=locked.tenant_id,
            actor=actor,
            event="api_key.revoked",
            obj=locked,
            after={"name": locked.name, "prefix": locked.prefix},
        )
        logger.info("api_key.revoked tenant_id=%s api_key_id=%s", locked.tenant_id, locked.pk)
    key.revoked_at = locked.revoked_at
    return locked


def api_key_mark_used(*, key: ApiKey, now: datetime.datetime | None = None) -> bool:
    """Set the key's `last_used_at` to now unless it was set within the last minute.

    A key loaded with a recent `last_used_at` runs no query. Otherwise one conditional
    UPDATE runs, so concurrent requests of a key write the row at most once a minute.
    Returns True when this call wrote.
    """
    now = now or timezone.now()
    if key.last_used_at is not None and key.last_used_at >= now - API_KEY_LAST_USED_RESOLUTION:
        return False
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - API_KEY_LAST_USED_RESOLUTION)
    written = ApiKey.all_tenants.filter(stale, pk=key.pk).update(last_used_at=now)
    if written:
        key.last_used_at = now
    return bool(written)


MAX_COMMISSION_SHARE_PLACES = Decimal("0.0001")


@transaction.atomic
def tenant_max_commission_share_set(*, tenant: Tenant, share, actor=None) -> Tenant:
    """Set the commission cost / expected lifetime value above which a partner gets a warning.

    Raises DomainError unless `share` is a Decimal from 0 to 1 with at most four decimal
    places. Setting the current value changes nothing and writes no audit event.
    """
    fix = "Enter a decimal from 0 to 1 with at most four places, such as 0.30 for 30%."
    if not isinstance(share, Decimal) or not share.is_finite():
        raise DomainError(
            f"Maximum commission share {share!r} is not a decimal number.",
            field="max_commission_share",
            value=share,
            fix=fix,
        )
    if not Decimal("0") <= share <= Decimal("1"):
        raise DomainError(
            f"Maximum commission share {share} is outside 0 to 1.",
            field="max_commission_share",
            value=share,
            fix=fix,
        )
    if share != share.quantize(MAX_COMMISSION_SHARE_PLACES):
        raise DomainError(
            f"Maximum commission share {share} has more than four decimal places.",
            field="max_commission_share",
            value=share,
            fix=fix,
        )
    share = share.quantize(MAX_COMMISSION_SHARE_PLACES)
    return tenant_setting_write(
        tenant=tenant, field="max_commission_share", value=share, actor=actor
    )


ICP_REVIEW_DAYS_MIN = 7
ICP_REVIEW_DAYS_MAX = 730


@transaction.atomic
def tenant_icp_review_days_set(*, tenant: Tenant, days, actor=None) -> Tenant:
    """Set the days from an ICP version's activation or last review to its next review.

    Raises DomainError unless `days` is a whole number from ICP_REVIEW_DAYS_MIN to
    ICP_REVIEW_DAYS_MAX. The active version keeps its due date; the new number applies
    from the next activation or completed review. Setting the current value changes
    nothing and writes no audit event.
    """
    if isinstance(days, bool) or not isinstance(days, int):
        raise DomainError(
            f"ICP review interval {days!r} is not a whole number of days.",
            field="icp_review_days",
            value=days,
            fix=f"Enter a whole number of days from {ICP_REVIEW_DAYS_MIN} to "
            f"{ICP_REVIEW_DAYS_MAX}, such as 90 for a quarterly review.",
        )
    if not ICP_REVIEW_DAYS_MIN <= days <= ICP_REVIEW_DAYS_MAX:
        raise DomainError(
            f"ICP review interval {days} days is outside {ICP_REVIEW_DAYS_MIN} to "
            f"{ICP_REVIEW_DAYS_MAX} days.",
            field="icp_review_days",
            value=days,
            fix=f"Enter a number of days from {ICP_REVIEW_DAYS_MIN} to {ICP_REVIEW_DAYS_MAX}, "
            "such as 90 for a quarterly review.",
        )
    return tenant_setting_write(tenant=tenant, field="icp_review_days", value=days, actor=actor)


@transaction.atomic
def tenant_mapping_visibility_set(*, tenant: Tenant, visibility: str, actor=None) -> Tenant:
    """Set what partners without their own setting see of their account overlap.

    Raises DomainError unless `visibility` is counts, names or details. Setting the
    current value changes nothing and writes no audit event.
    """
    if visibility not in Tenant.MappingVisibility.values:
        raise DomainError(
            f"Invalid account mapping visibility {visibility!r}.",
            field="mapping_visibility",
            value=visibility,
            fix="Choose counts, names or details.",
        )
    return tenant_setting_write(
        tenant=tenant, field="mapping_visibility", value=visibility, actor=actor
    )


def tenant_setting_write(*, tenant: Tenant, field: str, value, actor) -> Tenant:
    """Store one tenant setting under a row lock, with an audit event and a log line.

    Writing the current value changes nothing and writes no audit event. The caller
    has validated `value` and runs inside a transaction. `tenant` is updated in place,
    so the caller's object shows the new value.
    """
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    before = getattr(locked, field)
    if before == value:
        return locked
    setattr(locked, field, value)
    locked.save(update_fields=[field, "updated_at"])
    audit_record(
        tenant_id=locked.pk,
        actor=actor,
        event=f"tenant.{field}_set",
        obj=locked,
        before={field: _audit_json(before)},
        after={field: _audit_json(value)},
    )
    logger.info("tenant.%s_set tenant_id=%s before=%s after=%s", field, locked.pk, before, value)
    setattr(tenant, field, value)
    return locked


def _audit_json(value):
    return str(value) if isinstance(value, Decimal) else value
