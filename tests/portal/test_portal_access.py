"""A partner user reaches only its own portal: no staff page, staff API or other partner."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from partners.models import Partner
from tenancy.models import Membership, Tenant
from tenancy.scope import tenant_scope
from tenancy.services import api_key_create
from tests.factories import MembershipFactory, PartnerFactory, UserFactory
from tests.portal.data import FORBIDDEN
from tests.tenancy.test_every_route_isolated import OBJECT_ROUTES
from tests.web.data import program_create

PORTAL_API = (
    "/api/v1/portal/partner/",
    "/api/v1/portal/overlap/",
    "/api/v1/portal/reach/",
    "/api/v1/portal/brief/",
)


def staff_pages(world) -> list[str]:
    return [
        reverse("crm:account_list"),
        reverse("crm:account_detail", args=[world.zeta.pk]),
        reverse("partners:partner_list"),
        reverse("partners:partner_detail", args=[world.northwind.pk]),
        reverse("partners:partner_detail", args=[world.rival.pk]),
        reverse("partners:partner_edit", args=[world.northwind.pk]),
        reverse("partners:partner_brief_csv", args=[world.rival.pk]),
        reverse("partners:partner_portal_preview", args=[world.rival.pk]),
        reverse("partners:partner_portal_preview_csv", args=[world.rival.pk]),
        reverse("commissions:ledger_list"),
        reverse("commissions:ledger_list") + f"?partner={world.rival.pk}",
        reverse("tenancy:settings"),
    ]


def staff_api(world) -> list[str]:
    return [
        "/api/v1/partners/",
        f"/api/v1/partners/{world.rival.pk}/",
        f"/api/v1/partners/{world.northwind.pk}/",
        "/api/v1/accounts/",
        f"/api/v1/accounts/{world.zeta.pk}/",
        "/api/v1/deals/",
        "/api/v1/ledger/",
        f"/api/v1/ledger/?partner={world.rival.pk}",
    ]


def assert_nothing_forbidden(body: str) -> None:
    for text in FORBIDDEN:
        assert text not in body, text


def test_staff_pages_redirect_to_portal(northwind_client, world):
    for url in staff_pages(world):
        response = northwind_client.get(url)

        assert response.status_code == 302, url
        assert response["Location"] == reverse("partners:portal"), url
        assert_nothing_forbidden(response.content.decode())


def test_staff_api_is_forbidden(northwind_client, world):
    for url in staff_api(world):
        response = northwind_client.get(url)

        assert response.status_code == 403, url
        assert_nothing_forbidden(response.content.decode())


def test_staff_writes_are_forbidden(northwind_client, world):
    edit = reverse("partners:partner_edit", args=[world.northwind.pk])
    settings = reverse("tenancy:mapping_visibility_update")

    edit_response = northwind_client.post(edit, {"name": "x", "mapping_visibility": "details"})
    settings_response = northwind_client.post(settings, {"mapping_visibility": "details"})
    api_response = northwind_client.post(
        "/api/v1/partners/",
        {"external_id": "northwind", "name": "x", "mapping_visibility": "details"},
        content_type="application/json",
    )

    assert edit_response.status_code == 403
    assert settings_response.status_code == 403
    assert api_response.status_code == 403
    world.tenant.refresh_from_db()
    assert world.tenant.mapping_visibility == Tenant.MappingVisibility.NAMES
    with tenant_scope(world.tenant):
        assert Partner.objects.get(pk=world.northwind.pk).mapping_visibility == ""


PARTNER_ROUTES = sorted(name for name, (_, kind) in OBJECT_ROUTES.items() if kind == "partner")


@pytest.mark.parametrize("route", PARTNER_ROUTES)
def test_other_partner_ids_show_nothing(route, northwind_client, world):
    method, _ = OBJECT_ROUTES[route]
    url = reverse(route, kwargs={"pk": world.rival.pk})

    response = getattr(northwind_client, method)(url)

    assert response.status_code in (302, 403)
    assert_nothing_forbidden(response.content.decode())


@pytest.mark.parametrize("route", sorted(OBJECT_ROUTES))
def test_other_tenant_ids_show_nothing(route, northwind_client, world, other_tenant):
    program = program_create(other_tenant, label="Globex")
    program.api_key, _ = api_key_create(tenant=other_tenant, name="globex")
    method, attribute = OBJECT_ROUTES[route]
    url = reverse(route, kwargs={"pk": getattr(program, attribute).pk})

    response = getattr(northwind_client, method)(url)

    assert response.status_code in (302, 403)
    assert "Globex" not in response.content.decode()


@pytest.fixture
def stray_client(world, other_tenant):
    """A partner user of the tenant whose membership points at another tenant's partner."""
    with tenant_scope(other_tenant):
        stray = PartnerFactory(name="Globex Stray Partner")
    user = UserFactory(username="stray-user")
    MembershipFactory(tenant=world.tenant, user=user, role=Membership.Role.PARTNER, partner=stray)
    client = Client()
    client.force_login(user)
    return client


def test_other_tenants_partner_page_is_404(stray_client):
    for url in (reverse("partners:portal"), reverse("partners:portal_brief_csv")):
        response = stray_client.get(url)

        assert response.status_code == 404, url
        assert "Globex Stray Partner" not in response.content.decode()


@pytest.mark.parametrize("url", PORTAL_API)
def test_other_tenants_partner_api_is_404(stray_client, url):
    response = stray_client.get(url)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "Globex Stray Partner" not in response.content.decode()


@pytest.mark.parametrize("url", PORTAL_API)
def test_portal_api_rejects_staff_session(url, staff_client, world):
    response = staff_client.get(url)

    assert response.status_code == 403


@pytest.mark.parametrize("url", PORTAL_API)
def test_portal_api_rejects_api_key(url, client, world):
    _, raw_key = api_key_create(tenant=world.tenant, name="portal-key")

    response = client.get(url, headers={"Authorization": f"Api-Key {raw_key}"})

    assert response.status_code == 403


@pytest.mark.parametrize("url", PORTAL_API)
def test_portal_api_rejects_anonymous(url, client, world):
    response = client.get(url)

    assert response.status_code in (401, 403)
