"""The tenant scope: the one place that decides which tenant's rows a query reads.

The web middleware, the API base view, Celery tasks and management commands
activate a tenant with `tenant_scope`; tenant-owned models read it through
`TenantManager`. Without an active tenant, scoped queries raise instead of
returning every tenant's rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from django.db import models

_current_tenant_id: ContextVar[int | None] = ContextVar("current_tenant_id", default=None)


class TenantScopeMissing(RuntimeError):
    """A tenant-scoped query ran without an active tenant."""


def current_tenant_id() -> int:
    """Return the active tenant's id, or raise `TenantScopeMissing`."""
    tenant_id = _current_tenant_id.get()
    if tenant_id is None:
        raise TenantScopeMissing(
            "No tenant is active: wrap the code in tenancy.scope.tenant_scope(tenant)."
        )
    return tenant_id


def active_tenant_id() -> int | None:
    return _current_tenant_id.get()


@contextlib.contextmanager
def tenant_scope(tenant) -> Iterator[None]:
    """Make `tenant` (a Tenant or its id) the active tenant inside the block."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    token = _current_tenant_id.set(tenant_id)
    try:
        yield
    finally:
        _current_tenant_id.reset(token)


def activate(tenant_id: int | None):
    """Set the active tenant and return a token for `deactivate`."""
    return _current_tenant_id.set(tenant_id)


def deactivate(token) -> None:
    _current_tenant_id.reset(token)


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Default manager of tenant-owned models: filters by the active tenant."""

    def get_queryset(self) -> TenantQuerySet:
        return super().get_queryset().filter(tenant_id=current_tenant_id())

    def none(self) -> TenantQuerySet:
        # An empty queryset reads no rows, so it needs no tenant; forms declare
        # `queryset=Model.objects.none()` at import time and fill it per request.
        return super().get_queryset().none()


class AllTenantsManager(models.Manager):
    """Unscoped manager for admin screens, sweeps and migrations; use sparingly."""
