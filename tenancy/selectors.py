"""Reads about tenants, memberships and API keys."""

from __future__ import annotations

import hashlib

from django.db.models import QuerySet

from tenancy.models import ApiKey, Membership, Tenant


def membership_list_for_user(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("tenant").order_by("tenant__name")


def membership_for_user(*, user, tenant_id: int | None) -> Membership | None:
    """Return the user's membership in `tenant_id`, or their first one when it is None."""
    memberships = membership_list_for_user(user=user)
    if tenant_id is not None:
        return memberships.filter(tenant_id=tenant_id).first()
    return memberships.first()


def api_key_digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_for_secret(*, raw_key: str) -> ApiKey | None:
    """Return the key matching `raw_key`, across tenants, or None.

    Revoked and expired keys are returned too, so authentication can say which.
    """
    digest = api_key_digest(raw_key)
    return ApiKey.all_tenants.select_related("tenant").filter(digest=digest).first()


def api_key_list() -> QuerySet[ApiKey]:
    """Return the active tenant's keys, live ones first, then by name."""
    return ApiKey.objects.select_related("created_by").order_by("revoked_at", "name", "pk")


def tenant_get(*, slug: str) -> Tenant | None:
    return Tenant.objects.filter(slug=slug).first()
