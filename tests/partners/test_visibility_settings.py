"""Setting the tenant's default and a partner's own mapping visibility: roles, errors, audit."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from partners.models import Partner
from partners.services import partner_upsert
from tenancy.errors import DomainError
from tenancy.models import AuditEvent, Membership, Tenant
from tenancy.scope import tenant_scope
from tenancy.services import api_key_create, tenant_mapping_visibility_set
from tests.factories import MembershipFactory, UserFactory
from tests.portal.data import overlap_world_create

SETTINGS_URL = reverse("tenancy:settings")
UPDATE_URL = reverse("tenancy:mapping_visibility_update")
PORTAL_PARTNER_API = "/api/v1/portal/partner/"


@pytest.fixture
def world(tenant):
    return overlap_world_create(tenant)


@pytest.fixture
def login(tenant):
    def login_as(role: str) -> Client:
        user = UserFactory(username=f"{role}-settings")
        MembershipFactory(tenant=tenant, user=user, role=role)
        client = Client()
        client.force_login(user)
        return client

    return login_as


@pytest.fixture
def northwind_client(world):
    client = Client()
    client.force_login(world.user)
    return client


def tenant_events(tenant, event: str) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(event=event))


def partner_level(world) -> str:
    with tenant_scope(world.tenant):
        return Partner.objects.get(pk=world.northwind.pk).mapping_visibility


# The tenant default on the settings page


@pytest.mark.parametrize("role", [Membership.Role.ADMIN, Membership.Role.PARTNER_MANAGER])
def test_settings_sets_default(login, tenant, role):
    client = login(role)

    response = client.post(UPDATE_URL, {"mapping_visibility": "counts"})

    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.mapping_visibility == "counts"
    [event] = tenant_events(tenant, "tenant.mapping_visibility_set")
    assert event.before == {"mapping_visibility": "names"}
    assert event.after == {"mapping_visibility": "counts"}
    assert event.actor.username == f"{role}-settings"


def test_settings_form_shown_to_manager(login):
    content = login(Membership.Role.PARTNER_MANAGER).get(SETTINGS_URL).content.decode()

    assert "<h2>Account mapping privacy</h2>" in content
    assert f'action="{UPDATE_URL}"' in content


def test_analyst_sees_no_form(login):
    content = login(Membership.Role.ANALYST).get(SETTINGS_URL).content.decode()

    assert "<h2>Account mapping privacy</h2>" in content
    assert f'action="{UPDATE_URL}"' not in content
    assert "Only admins and partner managers can change what partners see." in content


def test_analyst_cannot_set_default(login, tenant):
    response = login(Membership.Role.ANALYST).post(UPDATE_URL, {"mapping_visibility": "counts"})

    assert response.status_code == 403
    tenant.refresh_from_db()
    assert tenant.mapping_visibility == "names"
    assert tenant_events(tenant, "tenant.mapping_visibility_set") == []


def test_settings_rejects_unknown_level(login, tenant):
    response = login(Membership.Role.ADMIN).post(UPDATE_URL, {"mapping_visibility": "everything"})
    content = response.content.decode()

    assert response.status_code == 400
    assert 'id="id_mapping_visibility_error"' in content
    assert "everything is not one of the available choices" in content
    tenant.refresh_from_db()
    assert tenant.mapping_visibility == "names"


def test_same_default_writes_no_event(tenant):
    tenant_mapping_visibility_set(tenant=tenant, visibility="names")

    assert tenant_events(tenant, "tenant.mapping_visibility_set") == []


def test_service_rejects_unknown_level(tenant):
    with pytest.raises(DomainError) as caught:
        tenant_mapping_visibility_set(tenant=tenant, visibility="everything")

    assert caught.value.field == "mapping_visibility"
    assert caught.value.value == "everything"
    assert "counts, names or details" in caught.value.fix


# The partner override on the edit form


def edit_data(partner, **changes) -> dict:
    data = {
        "external_id": partner.external_id,
        "name": partner.name,
        "kind": partner.kind,
        "domain": partner.domain,
        "description": partner.description,
        "owner": "",
        "tier": partner.tier,
        "notes": partner.notes,
        "mapping_visibility": partner.mapping_visibility,
    }
    return {**data, **changes}


def test_edit_form_sets_override(login, world):
    url = reverse("partners:partner_edit", args=[world.northwind.pk])

    response = login(Membership.Role.PARTNER_MANAGER).post(
        url, edit_data(world.northwind, mapping_visibility="details")
    )

    assert response.status_code == 302
    assert partner_level(world) == "details"
    [event] = tenant_events(world.tenant, "partner.updated")
    assert event.before == {"mapping_visibility": ""}
    assert event.after == {"mapping_visibility": "details"}


def test_edit_form_offers_program_default(login, world):
    url = reverse("partners:partner_edit", args=[world.northwind.pk])

    content = login(Membership.Role.ADMIN).get(url).content.decode()

    assert '<option value="" selected>Program default (overlapping account names)</option>' in (
        content
    )


def test_edit_form_rejects_unknown_level(login, world):
    url = reverse("partners:partner_edit", args=[world.northwind.pk])

    response = login(Membership.Role.ADMIN).post(
        url, edit_data(world.northwind, mapping_visibility="everything")
    )

    assert response.status_code == 400
    assert 'id="id_mapping_visibility_error"' in response.content.decode()
    assert partner_level(world) == ""


def test_analyst_cannot_edit_override(login, world):
    url = reverse("partners:partner_edit", args=[world.northwind.pk])

    response = login(Membership.Role.ANALYST).post(
        url, edit_data(world.northwind, mapping_visibility="details")
    )

    assert response.status_code == 403
    assert partner_level(world) == ""


# The partner override through the API


@pytest.fixture
def api_headers(tenant) -> dict:
    _, raw_key = api_key_create(tenant=tenant, name="settings-tests")
    return {"Authorization": f"Api-Key {raw_key}"}


def api_upsert(client, headers, **body):
    payload = {"external_id": "northwind", "name": "Northwind Partners", **body}
    return client.post(
        "/api/v1/partners/", payload, content_type="application/json", headers=headers
    )


def test_api_sets_override(client, api_headers, world):
    response = api_upsert(client, api_headers, mapping_visibility="counts")

    assert response.status_code == 200
    assert response.json()["mapping_visibility"] == "counts"
    assert partner_level(world) == "counts"
    [event] = tenant_events(world.tenant, "partner.updated")
    assert event.actor_label.startswith("api-key:")
    assert event.after == {"mapping_visibility": "counts"}


def test_api_clears_override(client, api_headers, world):
    world.northwind.mapping_visibility = "details"
    world.northwind.save(update_fields=["mapping_visibility"])

    response = api_upsert(client, api_headers, mapping_visibility="")

    assert response.status_code == 200
    assert response.json()["mapping_visibility"] == ""
    assert partner_level(world) == ""


def test_api_leaves_override_when_omitted(client, api_headers, world):
    world.northwind.mapping_visibility = "details"
    world.northwind.save(update_fields=["mapping_visibility"])

    response = api_upsert(client, api_headers, notes="")

    assert response.json()["mapping_visibility"] == "details"
    assert tenant_events(world.tenant, "partner.updated") == []


def test_api_rejects_unknown_level(client, api_headers, world):
    response = api_upsert(client, api_headers, mapping_visibility="everything")
    body = response.json()

    assert response.status_code == 400
    assert body["errors"][0]["field"] == "mapping_visibility"
    assert body["errors"][0]["value"] == "everything"
    assert "Send counts, names or details" in body["errors"][0]["message"]
    assert partner_level(world) == ""


def test_analyst_session_cannot_set_override(login, world):
    response = api_upsert(login(Membership.Role.ANALYST), {}, mapping_visibility="details")

    assert response.status_code == 403
    assert partner_level(world) == ""


def test_upsert_service_rejects_unknown_level(world):
    with tenant_scope(world.tenant), pytest.raises(DomainError) as caught:
        partner_upsert(
            tenant=world.tenant,
            external_id="northwind",
            name="Northwind Partners",
            mapping_visibility="everything",
        )

    assert caught.value.field == "mapping_visibility"
    assert partner_level(world) == ""


# Switching what the partner sees


def test_default_and_override_switch(login, northwind_client, world, tenant):
    admin = login(Membership.Role.ADMIN)
    edit_url = reverse("partners:partner_edit", args=[world.northwind.pk])

    seen = [northwind_client.get(PORTAL_PARTNER_API).json()["mapping_visibility"]]
    admin.post(UPDATE_URL, {"mapping_visibility": "counts"})
    seen.append(northwind_client.get(PORTAL_PARTNER_API).json()["mapping_visibility"])
    admin.post(edit_url, edit_data(world.northwind, mapping_visibility="details"))
    seen.append(northwind_client.get(PORTAL_PARTNER_API).json()["mapping_visibility"])
    admin.post(UPDATE_URL, {"mapping_visibility": "names"})
    seen.append(northwind_client.get(PORTAL_PARTNER_API).json()["mapping_visibility"])
    admin.post(edit_url, edit_data(world.northwind, mapping_visibility=""))
    seen.append(northwind_client.get(PORTAL_PARTNER_API).json()["mapping_visibility"])

    assert seen == ["names", "counts", "details", "details", "names"]
    assert Tenant.objects.get(pk=tenant.pk).mapping_visibility == "names"
