from decimal import Decimal

import pytest

from tenancy.scope import tenant_scope
from tests.api.conftest import count_queries
from tests.factories import AccountFactory, PartnerFactory

LIST_URL = "/api/v1/accounts/"


def detail_url(pk: int) -> str:
    return f"/api/v1/accounts/{pk}/"


@pytest.fixture
def accounts(scoped):
    return {
        "acme": AccountFactory(
            tenant=scoped,
            external_id="acc-acme",
            name="Acme",
            domain="acme.com",
            fit_score=92,
            fit_tier="A",
        ),
        "initech": AccountFactory(
            tenant=scoped,
            external_id="acc-initech",
            name="Initech",
            domain="initech.io",
            fit_score=55,
            fit_tier="B",
        ),
        "hooli": AccountFactory(
            tenant=scoped,
            external_id="acc-hooli",
            name="Hooli",
            domain="hooli.xyz",
            fit_score=48,
            fit_tier="B",
        ),
        "unscored": AccountFactory(
            tenant=scoped, external_id="acc-new", name="Newco", domain="newco.com"
        ),
    }


def list_names(client, headers, query: str = "") -> list[str]:
    response = client.get(LIST_URL + query, headers=headers)
    assert response.status_code == 200
    return [row["name"] for row in response.json()["results"]]


def test_list_returns_account_fields(client, headers, accounts, icp_version):
    partner = PartnerFactory(tenant=icp_version.tenant, external_id="p-1", name="Referrer")
    acme = accounts["acme"]
    acme.referred_by = partner
    acme.fit_version = icp_version
    acme.save()

    response = client.get(LIST_URL + "?search=acme", headers=headers)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row.pop("created_at")
    assert row.pop("updated_at")
    assert row == {
        "id": acme.pk,
        "external_id": "acc-acme",
        "name": "Acme",
        "domain": "acme.com",
        "industry": "software",
        "employees": 500,
        "annual_revenue": "50000000.00",
        "country": "US",
        "region": "",
        "year_established": None,
        "parent_name": "",
        "tech_stack": [],
        "budget": None,
        "triggers": {},
        "churned_on": None,
        "source": "",
        "referred_by": {"id": partner.pk, "external_id": "p-1", "name": "Referrer"},
        "referred_at": None,
        "fit_score": 92,
        "fit_tier": "A",
        "fit_version_number": 1,
    }


def test_list_orders_by_fit_score(client, headers, accounts):
    assert list_names(client, headers) == ["Acme", "Initech", "Hooli", "Newco"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("?tier=B", ["Initech", "Hooli"], id="tier"),
        pytest.param("?tier=C", [], id="empty-tier"),
        pytest.param("?search=INITECH", ["Initech"], id="name"),
        pytest.param("?search=.xyz", ["Hooli"], id="domain"),
        pytest.param("?ordering=fit_score", ["Hooli", "Initech", "Acme", "Newco"], id="asc"),
        pytest.param("?ordering=name", ["Acme", "Hooli", "Initech", "Newco"], id="name-asc"),
        pytest.param("?ordering=-name", ["Newco", "Initech", "Hooli", "Acme"], id="name-desc"),
        pytest.param("?tier=B&ordering=fit_score", ["Hooli", "Initech"], id="combined"),
    ],
)
def test_list_filters_and_orders(client, headers, accounts, query, expected):
    assert list_names(client, headers, query) == expected


@pytest.mark.parametrize(
    ("query", "field", "value", "message"),
    [
        pytest.param("?tier=E", "tier", "E", '"E" is not a valid choice.', id="tier"),
        pytest.param(
            "?ordering=revenue",
            "ordering",
            "revenue",
            '"revenue" is not a valid ordering; use one of: fit_score, -fit_score, name, -name, '
            "id, -id.",
            id="ordering",
        ),
    ],
)
def test_list_rejects_invalid_filter(client, headers, accounts, query, field, value, message):
    response = client.get(LIST_URL + query, headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": field, "message": message, "value": value}]


def test_list_omits_other_tenant_accounts(client, headers, other_tenant, accounts):
    with tenant_scope(other_tenant):
        AccountFactory(tenant=other_tenant, name="Globex Corp", fit_score=99, fit_tier="A")

    assert "Globex Corp" not in list_names(client, headers)
    assert list_names(client, headers, "?search=globex") == []


def test_list_query_count_is_fixed(client, headers, accounts, icp_version):
    tenant = icp_version.tenant
    few = count_queries(client, LIST_URL, headers)
    partner = PartnerFactory(tenant=tenant)
    for _ in range(10):
        AccountFactory(tenant=tenant, referred_by=partner, fit_version=icp_version)

    many = count_queries(client, LIST_URL, headers)

    # API key lookup, count, page
    assert few == 3
    assert many == 3


def test_detail_explains_fit(client, headers, scoped, icp_version):
    account = AccountFactory(
        tenant=scoped,
        external_id="acc-small",
        industry="Software",
        employees=150,
        annual_revenue=Decimal("1000000.00"),
    )

    response = client.get(detail_url(account.pk), headers=headers)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == account.pk
    assert body["external_id"] == "acc-small"
    assert body["fit"] == {
        "score": 60,
        "tier": "B",
        "total_weight": 100,
        "earned_points": 60,
        "knocked_out_by": [],
        "missing": [],
        "breakdown": [
            {
                "key": "industry",
                "label": "Software",
                "kind": "category",
                "field": "industry",
                "weight": 60,
                "knockout": False,
                "matched": True,
                "points": 60,
                "share": 0.6,
                "value": "Software",
                "missing": False,
            },
            {
                "key": "size",
                "label": "200+ employees",
                "kind": "range",
                "field": "employees",
                "weight": 40,
                "knockout": False,
                "matched": False,
                "points": 0,
                "share": 0.4,
                "value": 150,
                "missing": False,
            },
        ],
        "version": {
            "id": icp_version.pk,
            "number": 1,
            "name": "Mid-market software",
            "status": "active",
        },
    }


def test_detail_without_icp_version(client, headers, accounts):
    response = client.get(detail_url(accounts["unscored"].pk), headers=headers)

    assert response.status_code == 200
    assert response.json()["fit"] == {
        "score": None,
        "tier": "",
        "total_weight": 0,
        "earned_points": 0,
        "knocked_out_by": [],
        "missing": [],
        "breakdown": [],
        "version": None,
    }


def test_detail_other_tenant_account_not_found(client, headers, other_tenant, scoped):
    with tenant_scope(other_tenant):
        account = AccountFactory(tenant=other_tenant)

    response = client.get(detail_url(account.pk), headers=headers)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["message"] == "No account has this id."


def test_detail_unknown_id_not_found(client, headers, scoped):
    response = client.get(detail_url(999999), headers=headers)

    assert response.status_code == 404
    assert response.json()["value"] == 999999
