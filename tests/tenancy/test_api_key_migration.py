"""The data migration that gives keys from before scopes their former full access."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

from django.apps import apps
from django.db import connection

from tenancy.models import ApiKey
from tenancy.services import api_key_create

migration = importlib.import_module("tenancy.migrations.0007_api_key_scopes")


def run_migration() -> None:
    migration.grant_full_access(apps, SimpleNamespace(connection=connection))


def test_keys_without_scopes_get_full_access(client, tenant):
    old, raw_key = api_key_create(tenant=tenant, name="old", scopes=["crm:read"])
    ApiKey.all_tenants.filter(pk=old.pk).update(scopes=[])
    scoped, _ = api_key_create(tenant=tenant, name="scoped", scopes=["crm:read"])
    headers = {"Authorization": f"Api-Key {raw_key}"}
    assert client.get("/api/v1/ledger/", headers=headers).status_code == 403

    run_migration()

    old.refresh_from_db()
    scoped.refresh_from_db()
    assert old.scopes == ["*:write"]
    assert scoped.scopes == ["crm:read"]
    assert client.get("/api/v1/ledger/", headers=headers).status_code == 200
