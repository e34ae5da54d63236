"""Fixtures for the portal tests: the overlap world and Northwind's logged-in user."""

from __future__ import annotations

import pytest
from django.test import Client

from tenancy.models import Tenant
from tests.portal.data import overlap_world_create

LEVELS = tuple(Tenant.MappingVisibility.values)


@pytest.fixture
def world(tenant):
    return overlap_world_create(tenant)


@pytest.fixture
def northwind_client(world):
    client = Client()
    client.force_login(world.user)
    return client


@pytest.fixture(params=LEVELS)
def level(request, world):
    """Set Northwind's own visibility to each level in turn and return the level."""
    world.northwind.mapping_visibility = request.param
    world.northwind.save(update_fields=["mapping_visibility"])
    return request.param
