"""Fixtures for the dashboard page tests: a filled tenant and logged-in clients by role."""

from __future__ import annotations

import pytest
from django.test import Client

from tenancy.models import Membership
from tests.factories import MembershipFactory, UserFactory
from tests.web.data import program_create


@pytest.fixture
def program(tenant):
    return program_create(tenant, label="Acme")


@pytest.fixture
def other_program(other_tenant):
    return program_create(other_tenant, label="Globex")


@pytest.fixture
def login_as(tenant):
    """Return a function that logs a new user of `role` into a fresh client."""

    def login(role: str, *, partner=None) -> Client:
        user = UserFactory(username=f"{role}-{tenant.slug}")
        MembershipFactory(tenant=tenant, user=user, role=role, partner=partner)
        client = Client()
        client.force_login(user)
        return client

    return login


@pytest.fixture
def analyst_client(login_as):
    return login_as(Membership.Role.ANALYST)


@pytest.fixture
def manager_client(login_as):
    return login_as(Membership.Role.PARTNER_MANAGER)


@pytest.fixture
def partner_client(login_as, program):
    return login_as(Membership.Role.PARTNER, partner=program.partner)
