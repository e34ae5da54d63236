"""The tenant switcher and the API key page."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse

from tenancy.middleware import SESSION_TENANT_KEY
from tenancy.models import ApiKey, Membership
from tenancy.scope import tenant_scope
from tests.factories import MembershipFactory, TenantFactory

RAW_KEY_PATTERN = re.compile(r"t360_[A-Za-z0-9_\-]{20,}")


@pytest.fixture
def two_tenant_client(staff_client, admin_user, other_tenant):
    MembershipFactory(tenant=other_tenant, user=admin_user, role=Membership.Role.ANALYST)
    return staff_client


def test_switcher_shown_with_several_memberships(two_tenant_client, other_tenant):
    content = two_tenant_client.get(reverse("reporting:dashboard")).content.decode()

    assert reverse("tenancy:switch") in content
    assert f'value="{other_tenant.pk}"' in content


def test_switcher_hidden_with_one_membership(staff_client):
    content = staff_client.get(reverse("reporting:dashboard")).content.decode()

    assert reverse("tenancy:switch") not in content


def test_switch_to_member_tenant(two_tenant_client, other_tenant):
    response = two_tenant_client.post(reverse("tenancy:switch"), {"tenant_id": other_tenant.pk})
    dashboard = two_tenant_client.get(reverse("reporting:dashboard"))

    assert response.status_code == 302
    assert two_tenant_client.session[SESSION_TENANT_KEY] == other_tenant.pk
    assert dashboard.context["current_tenant"] == other_tenant


def test_switch_rejects_non_member_tenant(staff_client, tenant, db):
    stranger = TenantFactory(name="Initrode", slug="initrode")

    response = staff_client.post(reverse("tenancy:switch"), {"tenant_id": stranger.pk})
    dashboard = staff_client.get(reverse("reporting:dashboard"))

    assert response.status_code == 404
    assert SESSION_TENANT_KEY not in staff_client.session
    assert dashboard.context["current_tenant"] == tenant


def test_switch_rejects_get(staff_client):
    response = staff_client.get(reverse("tenancy:switch"))

    assert response.status_code == 405


CRM_SYNC_FORM = {"name": "CRM sync", "scopes": ["crm:write", "partners:read"]}


def test_api_key_raw_shown_once_digest_stored(staff_client, tenant):
    created = staff_client.post(reverse("tenancy:api_key_create"), CRM_SYNC_FORM)
    raw_keys = RAW_KEY_PATTERN.findall(created.content.decode())
    listed = staff_client.get(reverse("tenancy:api_key_list")).content.decode()

    assert created.status_code == 200
    assert len(set(raw_keys)) == 1
    raw_key = raw_keys[0]
    with tenant_scope(tenant):
        key = ApiKey.objects.get()
    assert key.digest == hashlib.sha256(raw_key.encode()).hexdigest()
    assert raw_key not in (key.name, key.prefix, key.digest)
    assert raw_key.startswith(key.prefix)
    assert raw_key not in listed
    assert "CRM sync" in listed
    assert "no-store" in created["Cache-Control"]


def test_api_key_duplicate_name_shows_error(staff_client, tenant):
    staff_client.post(reverse("tenancy:api_key_create"), CRM_SYNC_FORM)

    response = staff_client.post(reverse("tenancy:api_key_create"), CRM_SYNC_FORM)

    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    assert not RAW_KEY_PATTERN.search(response.content.decode())


def test_api_key_revoke(staff_client, tenant):
    staff_client.post(reverse("tenancy:api_key_create"), CRM_SYNC_FORM)
    with tenant_scope(tenant):
        key = ApiKey.objects.get()

    response = staff_client.post(
        reverse("tenancy:api_key_revoke", args=[key.pk]), {"confirmed": "1"}, follow=True
    )

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert "Revoked the API key" in response.content.decode()


def test_api_key_page_stores_scopes_expiry_rate(staff_client, tenant):
    form = {**CRM_SYNC_FORM, "expires_in_days": "30", "rate": "120/min"}

    response = staff_client.post(reverse("tenancy:api_key_create"), form)

    assert response.status_code == 200
    with tenant_scope(tenant):
        key = ApiKey.objects.get()
    assert key.scopes == ["crm:write", "partners:read"]
    assert key.rate == "120/min"
    days_left = (key.expires_at - key.created_at).total_seconds() / 86400
    assert 29.99 < days_left < 30.01
    listed = staff_client.get(reverse("tenancy:api_key_list")).content.decode()
    assert "<code>crm:write</code>" in listed
    assert "120/min" in listed
    assert key.expires_at.strftime("%Y-%m-%d") in listed


def test_api_key_page_requires_a_scope(staff_client, tenant):
    response = staff_client.post(reverse("tenancy:api_key_create"), {"name": "CRM sync"})

    assert response.status_code == 400
    assert "Choose at least one scope" in response.content.decode()
    with tenant_scope(tenant):
        assert not ApiKey.objects.exists()


def test_api_key_page_rejects_invalid_rate(staff_client, tenant):
    form = {**CRM_SYNC_FORM, "rate": "fast"}

    response = staff_client.post(reverse("tenancy:api_key_create"), form)

    assert response.status_code == 400
    assert "Invalid rate &#x27;fast&#x27;." in response.content.decode()
    assert not RAW_KEY_PATTERN.search(response.content.decode())
    with tenant_scope(tenant):
        assert not ApiKey.objects.exists()
