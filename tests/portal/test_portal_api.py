"""The partner portal API admits only partner users, each to its own partner."""

from __future__ import annotations

import pytest

from tenancy.models import Membership, Tenant
from tenancy.services import api_key_create
from tests.factories import MembershipFactory, PartnerFactory, UserFactory

URL = "/api/v1/portal/partner/"


@pytest.fixture
def partner_user(scoped):
    partner = PartnerFactory(name="Northwind", mapping_visibility="")
    user = UserFactory(username="northwind-user")
    MembershipFactory(tenant=scoped, user=user, role=Membership.Role.PARTNER, partner=partner)
    return user


def test_partner_user_reads_own_partner(client, partner_user):
    client.force_login(partner_user)

    response = client.get(URL)

    assert response.status_code == 200
    assert response.json()["name"] == "Northwind"
    assert response.json()["mapping_visibility"] == Tenant.MappingVisibility.NAMES


def test_partner_setting_overrides_tenant(client, partner_user):
    membership = Membership.objects.get(user=partner_user)
    membership.partner.mapping_visibility = Tenant.MappingVisibility.COUNTS
    membership.partner.save()
    client.force_login(partner_user)

    response = client.get(URL)

    assert response.json()["mapping_visibility"] == "counts"


def test_staff_session_rejected(staff_client):
    response = staff_client.get(URL)

    assert response.status_code == 403


def test_api_key_rejected(client, tenant):
    _, raw_key = api_key_create(tenant=tenant, name="portal-test")

    response = client.get(URL, headers={"Authorization": f"Api-Key {raw_key}"})

    assert response.status_code == 403


def test_anonymous_rejected(client, db):
    response = client.get(URL)

    assert response.status_code in (401, 403)
