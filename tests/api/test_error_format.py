"""Every API error has one JSON shape: code and message, with field, value and fix when known."""

from __future__ import annotations

import logging

import pytest

from tenancy.scope import tenant_scope
from tests.factories import AccountFactory


def test_validation_error_names_field_and_value(client, headers, scoped):
    response = client.get("/api/v1/deals/?stage=bogus", headers=headers)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"][0]["field"] == "stage"
    assert body["errors"][0]["value"] == "bogus"


def test_missing_key_is_401_with_fix(client, db):
    response = client.get("/api/v1/deals/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert "Api-Key" in response.json()["fix"]


def test_analyst_write_is_403(analyst_client):
    response = analyst_client.post("/api/v1/deals/", {}, content_type="application/json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert response.json()["message"]


def test_other_tenants_id_is_404_naming_id(client, headers, other_tenant):
    with tenant_scope(other_tenant):
        account = AccountFactory(name="Globex Corp")

    response = client.get(f"/api/v1/accounts/{account.pk}/", headers=headers)

    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert body["field"] == "id"
    assert body["value"] == account.pk
    assert "GET /api/v1/accounts/" in body["fix"]


def test_unknown_api_path_is_json_404(client, headers, db):
    response = client.get("/api/v1/nothing-here/", headers=headers)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_wrong_method_is_405_listing_methods(client, headers, scoped):
    response = client.delete("/api/v1/deals/", headers=headers)

    assert response.status_code == 405
    body = response.json()
    assert body["code"] == "method_not_allowed"
    assert body["fix"] == "This endpoint accepts GET, POST, HEAD, OPTIONS."


@pytest.mark.urls("tests.api.error_urls")
def test_unexpected_exception_is_json_500(client, headers, scoped, caplog):
    with caplog.at_level(logging.ERROR, logger="tenancy.api.errors"):
        response = client.get("/api/v1/failing/", headers=headers)

    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "server_error"
    assert "stored detail" not in response.content.decode()
    assert "server log" in body["fix"]
    [record] = [r for r in caplog.records if r.name == "tenancy.api.errors"]
    assert "api.server_error view=FailingView" in record.getMessage()
    assert record.exc_info is not None


def test_schema_declares_error_bodies(client, db):
    schema = client.get("/api/schema/?format=json").json()

    error = schema["components"]["schemas"]["Error"]
    assert {"code", "message", "field", "value", "fix", "errors"} <= set(error["properties"])
    responses = schema["paths"]["/api/v1/deals/"]["get"]["responses"]
    for status in ("400", "401", "403", "500"):
        ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/Error", status


def test_every_operation_documents_summary_and_errors(client, db):
    schema = client.get("/api/schema/?format=json").json()

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            name = f"{method.upper()} {path}"
            assert operation.get("summary"), name
            assert "401" in operation["responses"], name
            assert "500" in operation["responses"], name
