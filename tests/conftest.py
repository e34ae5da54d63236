"""Shared fixtures: two tenants, their staff, and the active tenant scope."""

from __future__ import annotations

import pytest

from partners.recompute import KEY_PREFIX, redis_client
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


@pytest.fixture(autouse=True)
def _no_pending_partner_score_refreshes():
    """Start every test with no partner score refresh pending or scheduled in Redis.

    The debounce keys are per tenant id, and a new test database reuses the ids of
    an earlier run, so a key left by that run could hold back a refresh.
    """
    client = redis_client()
    keys = list(client.scan_iter(f"{KEY_PREFIX}:*"))
    if keys:
        client.delete(*keys)
