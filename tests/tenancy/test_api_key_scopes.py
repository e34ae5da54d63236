"""API key scopes: read and write per resource group, checked on every API route."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from crm.models import Deal
from tenancy.api.permissions import (
    IsPartnerUser,
    IsTenantAdminSession,
    IsTenantMember,
    IsTenantReader,
)
from tenancy.api.scopes import (
    API_KEYS_GROUP,
    GROUPS,
    MODULE_GROUPS,
    scope_group_for,
    scopes_allow,
    scopes_validate,
)
from tenancy.api.views import TenantApiView
from tenancy.errors import DomainError
from tenancy.models import Membership
from tenancy.services import api_key_create
from tests.factories import MembershipFactory, UserFactory

DEAL_BODY = {"external_id": "opp-scope", "stage": "open", "amount": "10.00"}

# Group → (a GET that reads the group, a POST that writes it). A POST with an empty
# body passes the permission check and then fails validation with 400, which is
# enough to tell an allowed write from a 403.
GROUP_REQUESTS = {
    "crm": ("/api/v1/deals/", "/api/v1/deals/"),
    "icp": ("/api/v1/icp/versions/", "/api/v1/icp/versions/"),
    "partners": ("/api/v1/partners/", "/api/v1/links/"),
    "commissions": ("/api/v1/ledger/", "/api/v1/exchange-rates/"),
    "mdf": ("/api/v1/mdf/budgets/", "/api/v1/mdf/budgets/"),
}
# A POST that only computes a reply: read scope is enough.
READ_ONLY_POST = "/api/v1/commission-plans/preview/"
# Permission classes that check a key's scopes or reject keys outright.
SCOPE_CHECKING_PERMISSIONS = {IsTenantMember, IsTenantReader, IsPartnerUser, IsTenantAdminSession}


def key_headers(tenant, *scopes, name=None) -> dict:
    _, raw_key = api_key_create(tenant=tenant, name=name or ",".join(scopes), scopes=scopes)
    return {"Authorization": f"Api-Key {raw_key}"}


def api_views(patterns=None, prefix=""):
    """Yield (route, view class) for every route under /api/v1/."""
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            yield route, pattern.callback.view_class


def test_every_api_route_has_a_scope_group():
    routes = list(api_views())

    assert len(routes) > 50
    for route, view_class in routes:
        assert issubclass(view_class, TenantApiView), route
        group = scope_group_for(view_class)
        assert group in GROUPS or group == API_KEYS_GROUP, (route, group)


def test_every_api_route_checks_scopes():
    for route, view_class in api_views():
        permissions = set(view_class.permission_classes)
        assert permissions, route
        assert permissions <= SCOPE_CHECKING_PERMISSIONS, (route, permissions)


def test_only_key_management_is_in_api_keys_group():
    for route, view_class in api_views():
        in_keys_group = scope_group_for(view_class) == API_KEYS_GROUP
        assert in_keys_group == route.startswith("api/v1/api-keys/"), route
        if in_keys_group:
            assert view_class.permission_classes == (IsTenantAdminSession,), route


def test_default_group_from_module():
    def view_in(module: str) -> type:
        return type("View", (), {"__module__": module})

    assert scope_group_for(view_in("crm.api.views")) == "crm"
    assert scope_group_for(view_in("attribution.fraud.api.views")) == "partners"
    assert scope_group_for(view_in("commissions.api.mdf_views")) == "mdf"
    assert scope_group_for(view_in("commissions.api.mdf_views_extra")) == "commissions"
    assert scope_group_for(view_in("webhooks.api.views")) == "webhooks"
    assert scope_group_for(view_in("billing.api.views")) == "billing"
    assert scope_group_for(view_in("crmextra.api")) is None
    assert scope_group_for(view_in("reporting.api.views")) is None


def test_explicit_group_wins():
    view_class = type("View", (), {"__module__": "crm.api.views", "scope_group": "billing"})

    assert scope_group_for(view_class) == "billing"


def test_module_groups_name_known_groups():
    assert set(MODULE_GROUPS.values()) <= set(GROUPS)


@pytest.mark.parametrize(
    ("scopes", "group", "access", "allowed"),
    [
        (["crm:read"], "crm", "read", True),
        (["crm:read"], "crm", "write", False),
        (["crm:write"], "crm", "read", True),
        (["crm:write"], "crm", "write", True),
        (["crm:write"], "icp", "read", False),
        (["*:read"], "mdf", "read", True),
        (["*:read"], "mdf", "write", False),
        (["*:write"], "billing", "write", True),
        (["*:write"], None, "read", False),
        (["*:write"], API_KEYS_GROUP, "read", False),
        ([], "crm", "read", False),
    ],
)
def test_scopes_allow(scopes, group, access, allowed):
    assert scopes_allow(scopes, group=group, access=access) is allowed


def test_scopes_validate_sorts_and_deduplicates():
    assert scopes_validate(["partners:read", "crm:write", " crm:write"]) == [
        "crm:write",
        "partners:read",
    ]


@pytest.mark.parametrize(
    ("scopes", "value"),
    [
        (["crm"], "crm"),
        (["crm:delete"], "crm:delete"),
        (["ledger:read"], "ledger:read"),
        (["api_keys:write"], "api_keys:write"),
        ([3], 3),
        ("crm:read", "crm:read"),
        ([], []),
    ],
)
def test_scopes_validate_rejects(scopes, value):
    with pytest.raises(DomainError) as error:
        scopes_validate(scopes)

    assert error.value.field == "scopes"
    assert error.value.value == value
    assert "crm:read" in error.value.fix


@pytest.mark.parametrize("group", sorted(GROUP_REQUESTS))
def test_read_scope_reads_but_cannot_write(client, tenant, group):
    read_url, write_url = GROUP_REQUESTS[group]
    headers = key_headers(tenant, f"{group}:read")

    read = client.get(read_url, headers=headers)
    write = client.post(write_url, {}, content_type="application/json", headers=headers)

    assert read.status_code == 200, read.content
    assert write.status_code == 403
    body = write.json()
    assert body["code"] == "scope_missing"
    assert body["field"] == "scopes"
    assert body["value"] == f"{group}:write"
    assert f"lacks the scope {group}:write, which POST {write_url} requires" in body["message"]
    assert f"Create a key with the {group}:write scope" in body["fix"]


@pytest.mark.parametrize("group", sorted(GROUP_REQUESTS))
def test_write_scope_reads_and_writes(client, tenant, group):
    read_url, write_url = GROUP_REQUESTS[group]
    headers = key_headers(tenant, f"{group}:write")

    read = client.get(read_url, headers=headers)
    write = client.post(write_url, {}, content_type="application/json", headers=headers)

    assert read.status_code == 200
    assert write.status_code == 400
    assert write.json()["code"] == "invalid"


@pytest.mark.parametrize("group", sorted(GROUP_REQUESTS))
def test_other_groups_scope_rejected(client, tenant, group):
    read_url, _ = GROUP_REQUESTS[group]
    others = [f"{other}:write" for other in GROUPS if other != group]
    headers = key_headers(tenant, *others)

    response = client.get(read_url, headers=headers)

    assert response.status_code == 403
    assert response.json()["value"] == f"{group}:read"


def test_write_scope_creates_deal(client, tenant):
    headers = key_headers(tenant, "crm:write")

    response = client.post(
        "/api/v1/deals/", DEAL_BODY, content_type="application/json", headers=headers
    )

    assert response.status_code == 201
    assert Deal.all_tenants.filter(tenant=tenant, external_id="opp-scope").exists()


def test_rejected_write_stores_nothing(client, tenant):
    headers = key_headers(tenant, "crm:read")

    client.post("/api/v1/deals/", DEAL_BODY, content_type="application/json", headers=headers)

    assert not Deal.all_tenants.filter(external_id="opp-scope").exists()


def test_all_groups_read_scope(client, tenant):
    headers = key_headers(tenant, "*:read")

    for group, (read_url, write_url) in GROUP_REQUESTS.items():
        read = client.get(read_url, headers=headers)
        write = client.post(write_url, {}, content_type="application/json", headers=headers)
        assert read.status_code == 200, group
        assert write.status_code == 403, group
        assert write.json()["value"] == f"{group}:write"


def test_all_groups_write_scope(client, tenant):
    headers = key_headers(tenant, "*:write")

    for group, (read_url, write_url) in GROUP_REQUESTS.items():
        read = client.get(read_url, headers=headers)
        write = client.post(write_url, {}, content_type="application/json", headers=headers)
        assert read.status_code == 200, group
        assert write.status_code == 400, group


def test_read_only_post_needs_read_scope(client, tenant):
    reader = key_headers(tenant, "commissions:read")
    outsider = key_headers(tenant, "crm:write")

    allowed = client.post(READ_ONLY_POST, {}, content_type="application/json", headers=reader)
    rejected = client.post(READ_ONLY_POST, {}, content_type="application/json", headers=outsider)

    assert allowed.status_code == 400
    assert allowed.json()["code"] == "invalid"
    assert rejected.status_code == 403
    assert rejected.json()["value"] == "commissions:read"


def test_jobs_group(client, tenant):
    allowed = client.get("/api/v1/jobs/999999/", headers=key_headers(tenant, "jobs:read"))
    rejected = client.get("/api/v1/jobs/999999/", headers=key_headers(tenant, "icp:write"))

    assert allowed.status_code == 404
    assert rejected.status_code == 403
    assert rejected.json()["value"] == "jobs:read"


def test_session_users_ignore_scopes(client, tenant):
    """Staff sessions keep their role's rights, whatever keys the tenant has."""
    key_headers(tenant, "crm:read")
    manager = UserFactory(username="manager-scopes")
    MembershipFactory(tenant=tenant, user=manager, role=Membership.Role.PARTNER_MANAGER)
    analyst = UserFactory(username="analyst-scopes")
    MembershipFactory(tenant=tenant, user=analyst, role=Membership.Role.ANALYST)

    client.force_login(manager)
    created = client.post("/api/v1/deals/", DEAL_BODY, content_type="application/json")
    client.force_login(analyst)
    read = client.get("/api/v1/mdf/budgets/")
    previewed = client.post(READ_ONLY_POST, {}, content_type="application/json")

    assert created.status_code == 201
    assert read.status_code == 200
    assert previewed.status_code == 400
