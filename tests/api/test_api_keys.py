"""The API key management endpoints: admins' sessions only, one tenant, raw key once."""

from __future__ import annotations

import datetime
import hashlib
import json
import logging

import pytest
from django.utils import timezone

from tenancy.models import ApiKey, AuditEvent, Membership
from tenancy.scope import tenant_scope
from tenancy.services import api_key_create
from tests.api.conftest import auth
from tests.factories import MembershipFactory, UserFactory

LIST_URL = "/api/v1/api-keys/"
BODY = {"name": "CRM sync", "scopes": ["crm:write", "partners:read"]}


def revoke_url(pk: int) -> str:
    return f"/api/v1/api-keys/{pk}/revoke/"


def create(client, body: dict):
    return client.post(LIST_URL, body, content_type="application/json")


def test_create_returns_raw_key_once(staff_client, tenant):
    response = create(staff_client, {**BODY, "expires_in_days": 30, "rate": "120/min"})

    assert response.status_code == 201
    body = response.json()
    raw_key = body["key"]
    key = ApiKey.all_tenants.get(pk=body["id"])
    assert key.tenant == tenant
    assert key.digest == hashlib.sha256(raw_key.encode()).hexdigest()
    assert raw_key.startswith(body["prefix"])
    assert body["scopes"] == ["crm:write", "partners:read"]
    assert body["status"] == "active"
    assert body["rate"] == "120/min"
    assert body["created_by"] == "admin-acme"
    days_left = (key.expires_at - timezone.now()).total_seconds() / 86400
    assert 29.99 < days_left <= 30
    listed = staff_client.get(LIST_URL).json()
    assert raw_key not in json.dumps(listed)
    assert [row["name"] for row in listed["results"]] == ["CRM sync"]


def test_created_key_works_with_its_scopes(staff_client, client):
    raw_key = create(staff_client, BODY).json()["key"]
    client.logout()

    assert client.get("/api/v1/partners/", headers=auth(raw_key)).status_code == 200
    assert client.get("/api/v1/ledger/", headers=auth(raw_key)).status_code == 403


def test_raw_key_never_stored_or_logged(staff_client, tenant, caplog):
    caplog.set_level(logging.DEBUG)

    raw_key = create(staff_client, BODY).json()["key"]

    key = ApiKey.all_tenants.get(tenant=tenant)
    stored = [str(value) for value in ApiKey.all_tenants.filter(pk=key.pk).values().get().values()]
    assert all(raw_key not in value for value in stored)
    assert key.digest == hashlib.sha256(raw_key.encode()).hexdigest()
    events = list(AuditEvent.all_tenants.filter(tenant=tenant).values("before", "after"))
    assert raw_key not in json.dumps(events)
    assert raw_key not in caplog.text
    assert f"api_key_id={key.pk}" in caplog.text


def test_create_and_revoke_audited(staff_client, admin_user, tenant):
    key_id = create(staff_client, BODY).json()["id"]
    staff_client.post(revoke_url(key_id))

    with tenant_scope(tenant):
        events = list(AuditEvent.objects.filter(object_id=str(key_id)).order_by("pk"))
    assert [event.event for event in events] == ["api_key.created", "api_key.revoked"]
    assert all(event.actor == admin_user for event in events)
    assert events[0].after["scopes"] == ["crm:write", "partners:read"]
    assert events[0].after["expires_at"] is None


def test_revoke(staff_client, client, tenant):
    created = create(staff_client, BODY).json()

    response = staff_client.post(revoke_url(created["id"]))
    again = staff_client.post(revoke_url(created["id"]))
    client.logout()
    used = client.get("/api/v1/partners/", headers=auth(created["key"]))

    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert again.json()["revoked_at"] == response.json()["revoked_at"]
    assert used.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": ["ledger:read"]}, "scopes"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x"}, "scopes"),
        ({"name": "x", "scopes": ["crm:read"], "rate": "lots"}, "rate"),
        ({"name": "x", "scopes": ["crm:read"], "expires_in_days": 0}, "expires_in_days"),
        ({"name": "x", "scopes": ["crm:read"], "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        (
            {"name": "x", "scopes": ["crm:read"], "expires_in_days": 1, "expires_at": "2100-01-01"},
            "expires_at",
        ),
    ],
)
def test_create_rejects_invalid(staff_client, tenant, body, field):
    response = create(staff_client, body)

    assert response.status_code == 400
    data = response.json()
    named = {data.get("field")} | {error["field"] for error in data.get("errors", [])}
    assert field in named
    assert not ApiKey.all_tenants.exists()


def test_duplicate_name_conflicts(staff_client):
    create(staff_client, BODY)

    response = create(staff_client, BODY)

    assert response.status_code == 409
    assert response.json()["field"] == "name"
    assert ApiKey.all_tenants.count() == 1


def test_keys_cannot_manage_keys(client, tenant):
    key, raw_key = api_key_create(tenant=tenant, name="full", scopes=["*:write"])

    listed = client.get(LIST_URL, headers=auth(raw_key))
    created = client.post(LIST_URL, BODY, content_type="application/json", headers=auth(raw_key))
    revoked = client.post(revoke_url(key.pk), headers=auth(raw_key))

    for response in (listed, created, revoked):
        assert response.status_code == 403
        assert "API keys cannot list, create or revoke API keys" in response.json()["message"]
    assert ApiKey.all_tenants.count() == 1
    assert ApiKey.all_tenants.get().revoked_at is None


@pytest.mark.parametrize("role", [Membership.Role.PARTNER_MANAGER, Membership.Role.ANALYST])
def test_non_admins_cannot_manage_keys(client, tenant, role):
    user = UserFactory(username=f"{role}-keys")
    MembershipFactory(tenant=tenant, user=user, role=role)
    client.force_login(user)

    assert client.get(LIST_URL).status_code == 403
    assert create(client, BODY).status_code == 403
    assert not ApiKey.all_tenants.exists()


def test_unauthenticated_gets_401(client, tenant):
    assert client.get(LIST_URL).status_code == 401


def test_list_shows_only_own_tenant(staff_client, tenant, other_tenant):
    api_key_create(tenant=tenant, name="own", scopes=["crm:read"])
    api_key_create(tenant=other_tenant, name="foreign", scopes=["crm:read"])

    rows = staff_client.get(LIST_URL).json()["results"]

    assert [row["name"] for row in rows] == ["own"]


def test_revoke_other_tenants_key_is_404(staff_client, other_tenant):
    foreign, raw_key = api_key_create(tenant=other_tenant, name="foreign", scopes=["crm:read"])

    response = staff_client.post(revoke_url(foreign.pk))

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_same_name_in_two_tenants(staff_client, other_tenant):
    api_key_create(tenant=other_tenant, name="CRM sync", scopes=["crm:read"])

    assert create(staff_client, BODY).status_code == 201


def test_list_shows_status(staff_client, tenant):
    expired, _ = api_key_create(tenant=tenant, name="b-expired", scopes=["crm:read"])
    ApiKey.all_tenants.filter(pk=expired.pk).update(
        expires_at=timezone.now() - datetime.timedelta(days=1)
    )
    api_key_create(tenant=tenant, name="a-active", scopes=["crm:read"])

    rows = staff_client.get(LIST_URL).json()["results"]

    assert {row["name"]: row["status"] for row in rows} == {
        "a-active": "active",
        "b-expired": "expired",
    }
