"""Reads of a tenant's ICP versions."""

from __future__ import annotations

from django.db.models import QuerySet

from icp.models import IcpVersion
from tenancy.errors import NotFound
from tenancy.scope import tenant_scope


def icp_version_active(*, tenant) -> IcpVersion | None:
    """Return the tenant's active version, or None when no version is active."""
    with tenant_scope(tenant):
        return IcpVersion.objects.filter(status=IcpVersion.Status.ACTIVE).first()


def icp_version_list(*, tenant) -> QuerySet[IcpVersion]:
    """Return the tenant's versions, newest number first."""
    with tenant_scope(tenant):
        return IcpVersion.objects.order_by("-number")


def icp_version_get(*, tenant, pk) -> IcpVersion:
    """Return the tenant's version `pk`, or raise NotFound, also for another tenant's id."""
    try:
        version_id = int(pk)
    except (TypeError, ValueError):
        version_id = None
    version = None
    if version_id is not None:
        with tenant_scope(tenant):
            version = IcpVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise NotFound(
            f"ICP version {pk} not found.",
            field="pk",
            value=pk,
            fix="Use the id of one of this tenant's ICP versions.",
        )
    return version
