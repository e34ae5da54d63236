"""Fixtures for attribution: partners, link hosts, partner users and a clean click queue."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings

from tenancy.models import Membership
from tests.api.conftest import analyst_client, api_key, headers, other_headers  # noqa: F401
from tests.factories import MembershipFactory, PartnerFactory, UserFactory


def _clear_redis() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter("t360:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(autouse=True)
def clean_redis():
    """Start and end every test with an empty click queue and link cache."""
    _clear_redis()
    yield
    _clear_redis()


@pytest.fixture
def partner(scoped):
    return PartnerFactory(tenant=scoped, external_id="p-north", name="North Partners")


@pytest.fixture
def rival(scoped):
    return PartnerFactory(tenant=scoped, external_id="p-south", name="South Agency")


@pytest.fixture
def link_hosts(scoped):
    scoped.link_domains = ["acme-analytics.com"]
    scoped.save(update_fields=["link_domains"])
    return scoped


@pytest.fixture
def partner_user(partner):
    user = UserFactory(username="north-user")
    MembershipFactory(
        tenant=partner.tenant, user=user, role=Membership.Role.PARTNER, partner=partner
    )
    return user


@pytest.fixture
def rival_user(rival):
    user = UserFactory(username="south-user")
    MembershipFactory(tenant=rival.tenant, user=user, role=Membership.Role.PARTNER, partner=rival)
    return user
