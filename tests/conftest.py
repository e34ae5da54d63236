"""Shared fixtures: two tenants, their staff, and the active tenant scope."""

from __future__ import annotations

import pytest

from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.factories import MembershipFactory, TenantFactory, UserFactory


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Acme Analytics", slug="acme")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(name="Globex", slug="globex")


@pytest.fixture
def scoped(tenant):
    """Activate `tenant`'s scope for the whole test."""
    with tenant_scope(tenant):
        yield tenant


@pytest.fixture
def admin_user(tenant):
    user = UserFactory(username="admin-acme")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def other_admin_user(other_tenant):
    user = UserFactory(username="admin-globex")
    MembershipFactory(tenant=other_tenant, user=user, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client
