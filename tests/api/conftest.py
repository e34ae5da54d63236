"""Fixtures for the REST API tests: API keys, sessions by role and an ICP program."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from icp.models import IcpVersion
from tenancy.models import Membership
from tenancy.services import api_key_create
from tests.factories import MembershipFactory, UserFactory

# Software companies of 200 employees or more are tier A; either one alone is tier B.
ICP_CRITERIA = [
    {
        "key": "industry",
        "label": "Software",
        "field": "industry",
        "kind": "category",
        "values": ["software"],
        "weight": 60,
    },
    {
        "key": "size",
        "label": "200+ employees",
        "field": "employees",
        "kind": "range",
        "min": 200,
        "max": None,
        "weight": 40,
    },
]
ICP_CUTOFFS = {"A": 80, "B": 40, "C": 20}


def auth(raw_key: str) -> dict:
    return {"Authorization": f"Api-Key {raw_key}"}


@pytest.fixture
def api_key(tenant) -> str:
    _, raw_key = api_key_create(tenant=tenant, name="tests")
    return raw_key


@pytest.fixture
def headers(api_key) -> dict:
    return auth(api_key)


@pytest.fixture
def other_headers(other_tenant) -> dict:
    _, raw_key = api_key_create(tenant=other_tenant, name="tests")
    return auth(raw_key)


@pytest.fixture
def analyst_client(client, tenant):
    user = UserFactory(username="analyst-acme")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.ANALYST)
    client.force_login(user)
    return client


@pytest.fixture
def icp_version(scoped) -> IcpVersion:
    return IcpVersion.objects.create(
        tenant=scoped,
        number=1,
        name="Mid-market software",
        status=IcpVersion.Status.ACTIVE,
        provenance=IcpVersion.Provenance.MANUAL,
        criteria=ICP_CRITERIA,
        tier_cutoffs=ICP_CUTOFFS,
    )


def count_queries(client, url: str, headers: dict) -> int:
    """Return how many SQL queries one GET of `url` runs, after a warm-up request.

    The warm-up absorbs the API key's once-a-minute `last_used_at` update.
    """
    client.get(url, headers=headers)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    return len(queries)
