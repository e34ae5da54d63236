import pytest

EXPECTED_PATHS = {
    "/api/v1/deals/": {"get", "post"},
    "/api/v1/deals/bulk/": {"post"},
    "/api/v1/deals/{id}/": {"get"},
    "/api/v1/accounts/": {"get"},
    "/api/v1/accounts/bulk/": {"post"},
    "/api/v1/accounts/{id}/": {"get"},
    "/api/v1/imports/{kind}/": {"post"},
    "/api/v1/imports/": {"get"},
    "/api/v1/imports/{id}/": {"get"},
    "/api/v1/import-mappings/": {"get"},
    "/api/v1/partners/": {"get", "post"},
    "/api/v1/partners/{id}/": {"get"},
    "/api/v1/partners/ranking/": {"get"},
    "/api/v1/partners/segments/": {"get"},
    "/api/v1/partners/{id}/status/": {"post"},
    "/api/v1/partners/{id}/reach/": {"get", "post"},
    "/api/v1/referrals/": {"get", "post"},
    "/api/v1/referrals/check/": {"get"},
    "/api/v1/referrals/{id}/": {"get"},
    "/api/v1/referrals/{id}/approve/": {"post"},
    "/api/v1/referrals/{id}/reject/": {"post"},
    "/api/v1/links/": {"get", "post"},
    "/api/v1/links/{id}/": {"get"},
    "/api/v1/links/{id}/deactivate/": {"post"},
    "/api/v1/touches/": {"post"},
    "/api/v1/settings/attribution/": {"get", "put"},
    "/api/v1/ledger/": {"get", "post"},
    "/api/v1/ledger/{id}/": {"get"},
    "/api/v1/ledger/{id}/approve/": {"post"},
    "/api/v1/ledger/{id}/void/": {"post"},
    "/api/v1/payouts/": {"get"},
    "/api/v1/payouts/{id}/": {"get"},
    "/api/v1/payouts/prepare/": {"post"},
    "/api/v1/payouts/{id}/approve/": {"post"},
    "/api/v1/payouts/{id}/mark-paid/": {"post"},
    "/api/v1/payouts/export.csv": {"get"},
    "/api/v1/exchange-rates/": {"get", "post"},
    "/api/v1/exchange-rates/quote/": {"get"},
    "/api/v1/exchange-rates/{id}/": {"get", "delete"},
    "/api/v1/mdf/budgets/": {"get", "post"},
    "/api/v1/mdf/budgets/{id}/": {"get"},
    "/api/v1/mdf/budgets/{id}/allocate/": {"post"},
    "/api/v1/mdf/requests/": {"get", "post"},
    "/api/v1/mdf/requests/{id}/": {"get"},
    "/api/v1/mdf/requests/{id}/approve/": {"post"},
    "/api/v1/mdf/requests/{id}/reject/": {"post"},
    "/api/v1/mdf/requests/{id}/cancel/": {"post"},
    "/api/v1/mdf/requests/{id}/claim/accept/": {"post"},
    "/api/v1/mdf/requests/{id}/claim/reject/": {"post"},
    "/api/v1/mdf/requests/{id}/claim/reimburse/": {"post"},
    "/api/v1/mdf/proofs/{id}/": {"get"},
    "/api/v1/portal/mdf/allocations/": {"get"},
    "/api/v1/portal/mdf/requests/": {"get", "post"},
    "/api/v1/portal/mdf/requests/{id}/": {"get"},
    "/api/v1/portal/mdf/requests/{id}/claim/": {"post"},
    "/api/v1/portal/mdf/proofs/{id}/": {"get"},
    "/api/v1/revenue-events/": {"get", "post"},
    "/api/v1/revenue-events/{id}/": {"get"},
    "/api/v1/commission-plan/": {"get", "put"},
    "/api/v1/commission-plans/": {"get", "post"},
    "/api/v1/commission-plans/preview/": {"post"},
    "/api/v1/commission-plans/{id}/": {"get", "put", "delete"},
    "/api/v1/commission-plans/{id}/activate/": {"post"},
    "/api/v1/commission-plans/{id}/copy/": {"post"},
    "/api/v1/unit-economics/": {"get"},
    "/api/v1/icp/review/": {"get"},
    "/api/v1/icp/review/complete/": {"post"},
    "/api/v1/icp/drift/draft/": {"post"},
    "/api/v1/icp/versions/": {"get", "post"},
    "/api/v1/icp/versions/{id}/": {"get", "patch", "delete"},
    "/api/v1/icp/versions/{id}/copy/": {"post"},
    "/api/v1/icp/versions/{id}/activate/": {"post"},
    "/api/v1/icp/learn/": {"post"},
    "/api/v1/icp/versions/{id}/diff/": {"get"},
    "/api/v1/jobs/{id}/": {"get"},
    "/api/v1/portal/partner/": {"get"},
    "/api/v1/partner-applications/": {"get"},
    "/api/v1/partners/{id}/brief/": {"get"},
    # Account mapping privacy: the partner's overlap, reach list and brief.
    "/api/v1/portal/overlap/": {"get"},
    "/api/v1/portal/reach/": {"get"},
    "/api/v1/portal/brief/": {"get"},
    "/api/v1/fraud-signals/": {"get"},
    "/api/v1/fraud-signals/{id}/": {"get"},
    "/api/v1/fraud-signals/{id}/dismiss/": {"post"},
    "/api/v1/fraud-signals/{id}/confirm/": {"post"},
    "/api/v1/api-keys/": {"get", "post"},
    "/api/v1/api-keys/{id}/revoke/": {"post"},
    "/api/v1/portal/referrals/": {"get", "post"},
    "/api/v1/portal/referrals/check/": {"get"},
    "/api/v1/portal/links/": {"get", "post"},
    "/api/v1/commission-plans/{id}/simulate/": {"post"},
    "/api/v1/recalculations/": {"post"},
    "/api/v1/recalculations/{id}/": {"get"},
    "/api/v1/recalculations/{id}/apply/": {"post"},
    "/api/v1/recalculations/{id}/discard/": {"post"},
    "/api/v1/webhooks/endpoints/": {"get", "post"},
    "/api/v1/webhooks/endpoints/{id}/": {"get", "patch", "delete"},
    "/api/v1/webhooks/endpoints/{id}/rotate-secret/": {"post"},
    "/api/v1/webhooks/endpoints/{id}/test/": {"post"},
    "/api/v1/webhooks/deliveries/": {"get"},
    "/api/v1/webhooks/deliveries/{id}/": {"get"},
    "/api/v1/webhooks/deliveries/{id}/replay/": {"post"},
    "/api/v1/billing/connections/": {"get", "post"},
    "/api/v1/billing/connections/{id}/": {"get"},
    "/api/v1/billing/connections/{id}/rotate/": {"post"},
    "/api/v1/billing/connections/{id}/deactivate/": {"post"},
    "/api/v1/billing/events/": {"get"},
    "/api/v1/billing/events/{id}/retry/": {"post"},
}


@pytest.fixture
def schema(client, db) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_schema_lists_every_path(schema):
    api_paths = {path for path in schema["paths"] if path.startswith("/api/v1/")}

    assert set(EXPECTED_PATHS) == api_paths
    for path, methods in EXPECTED_PATHS.items():
        assert set(schema["paths"][path]) - {"parameters"} == methods, path


def test_schema_documents_api_key(schema):
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "Send `Api-Key <key>`.",
    }


def test_schema_paginates_lists(schema):
    deals = schema["paths"]["/api/v1/deals/"]["get"]
    names = [parameter["name"] for parameter in deals["parameters"]]

    assert {"limit", "offset", "stage", "source", "partner"} <= set(names)
    assert {"close_date_from", "close_date_to"} <= set(names)
    ref = deals["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/PaginatedDealOutputList"


def test_schema_import_kind_enum(schema):
    operation = schema["paths"]["/api/v1/imports/{kind}/"]["post"]
    kind = next(p for p in operation["parameters"] if p["name"] == "kind")

    assert kind["schema"]["enum"] == [
        "accounts",
        "deals",
        "exchange_rates",
        "reach",
        "revenue_events",
    ]
    assert "multipart/form-data" in operation["requestBody"]["content"]


def test_api_docs_use_bundled_assets(client, admin_user):
    client.force_login(admin_user)

    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui-dist" in page
    assert "cdn." not in page
