"""GET /api/v1/unit-economics/: tier and partner figures as strings, per tenant, paged."""

import pytest

from tenancy.scope import tenant_scope
from tests.commissions.unit_economics_data import two_tenants_build
from tests.factories import PartnerFactory


@pytest.fixture
def two_tenants(tenant, other_tenant):
    return two_tenants_build(tenant, other_tenant)


def test_api_returns_strings_and_own_tenant(client, two_tenants, headers):
    response = client.get("/api/v1/unit-economics/", headers=headers)

    assert response.status_code == 200
    data = response.json()
    assert data["max_commission_share"] == "0.3000"
    assert data["tiers"][0] == {
        "tier": "A",
        "customers": 5,
        "enough_data": True,
        "average_value": "1000.00",
        "churned_customers": 0,
        "churn_rate": "0.0000",
        "expected_lifetime_years": "5.0000",
        "expected_lifetime_value": "5000.00",
    }
    assert data["tiers"][1]["customers"] == 0
    assert data["tiers"][1]["expected_lifetime_value"] is None
    assert data["count"] == 1
    assert [row["partner_name"] for row in data["partners"]] == ["Acme Reseller"]
    assert data["partners"][0]["cost_share"] == "0.4000"
    assert data["partners"][0]["commission_cost"] == "2000.00"
    assert data["partners"][0]["over_limit"] is True


def test_api_other_tenant_sees_only_its_own(client, two_tenants, other_headers):
    data = client.get("/api/v1/unit-economics/", headers=other_headers).json()

    assert [row["partner_name"] for row in data["partners"]] == ["Globex Secret Partner"]
    assert data["tiers"][0]["customers"] == 0
    assert data["tiers"][1]["customers"] == 1


def test_api_pages_partners(client, two_tenants, headers, tenant):
    with tenant_scope(tenant):
        PartnerFactory(tenant=tenant, name="Zeta")

    data = client.get("/api/v1/unit-economics/?limit=1&offset=1", headers=headers).json()

    assert data["count"] == 2
    assert [row["partner_name"] for row in data["partners"]] == ["Zeta"]
    assert data["previous"] is not None


def test_api_requires_key(client, two_tenants):
    assert client.get("/api/v1/unit-economics/").status_code in (401, 403)
