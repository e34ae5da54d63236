"""Reads of ICP versions, including another tenant's ids."""

from __future__ import annotations

import pytest

from icp.models import IcpVersion
from icp.selectors import icp_version_active, icp_version_get, icp_version_list
from tenancy.errors import NotFound


def make_version(tenant, number: int, status: str = IcpVersion.Status.DRAFT) -> IcpVersion:
    return IcpVersion.all_tenants.create(
        tenant=tenant,
        number=number,
        name=f"v{number}",
        status=status,
        provenance=IcpVersion.Provenance.MANUAL,
    )


def test_icp_version_active(tenant, other_tenant):
    make_version(tenant, 1)
    active = make_version(tenant, 2, IcpVersion.Status.ACTIVE)
    make_version(other_tenant, 1, IcpVersion.Status.ACTIVE)

    assert icp_version_active(tenant=tenant) == active


def test_icp_version_active_none(tenant):
    make_version(tenant, 1)

    assert icp_version_active(tenant=tenant) is None


def test_icp_version_list_newest_first(tenant, other_tenant):
    make_version(tenant, 1)
    make_version(tenant, 2)
    make_version(other_tenant, 3)

    versions = icp_version_list(tenant=tenant)

    assert [version.number for version in versions] == [2, 1]


def test_icp_version_get(tenant):
    version = make_version(tenant, 1)

    assert icp_version_get(tenant=tenant, pk=version.pk) == version
    assert icp_version_get(tenant=tenant, pk=str(version.pk)) == version


@pytest.mark.parametrize("pk", ["other-tenant", 999_999, "abc", None])
def test_icp_version_get_not_found(tenant, other_tenant, pk):
    foreign = make_version(other_tenant, 1)
    lookup = foreign.pk if pk == "other-tenant" else pk

    with pytest.raises(NotFound) as caught:
        icp_version_get(tenant=tenant, pk=lookup)

    assert caught.value.message == f"ICP version {lookup} not found."
    assert caught.value.field == "pk"
