import datetime

import pytest

from icp.models import IcpVersion
from tenancy.scope import tenant_scope
from tests.api.conftest import ICP_CRITERIA, ICP_CUTOFFS, count_queries

LIST_URL = "/api/v1/icp/versions/"


def detail_url(pk: int) -> str:
    return f"/api/v1/icp/versions/{pk}/"


def version(tenant, number: int, **values) -> IcpVersion:
    defaults = {
        "name": f"Version {number}",
        "status": IcpVersion.Status.RETIRED,
        "provenance": IcpVersion.Provenance.MANUAL,
        "criteria": ICP_CRITERIA,
        "tier_cutoffs": ICP_CUTOFFS,
    }
    return IcpVersion.all_tenants.create(tenant=tenant, number=number, **{**defaults, **values})


@pytest.fixture
def learned(scoped):
    return version(
        scoped,
        2,
        name="Learned from 2023 deals",
        status=IcpVersion.Status.DRAFT,
        provenance=IcpVersion.Provenance.LEARNED,
        objective="won",
        signal=IcpVersion.Signal.WEAK,
        summary="Industry separates won from lost deals; company size does not.",
        criteria=[
            {
                "key": "industry",
                "label": "Industry: software",
                "field": "industry",
                "kind": "category",
                "values": ["software"],
                "weight": 100,
                "support": {"deals": 210, "accounts": 12},
                "lift": {"win_rate": 1.8, "won_value": 1.25},
            }
        ],
        metrics={"roc_auc": 0.61, "deals": 512},
        trained_from=datetime.date(2023, 1, 1),
        trained_to=datetime.date(2023, 12, 31),
        review_due_on=datetime.date(2024, 6, 30),
    )


def test_detail_returns_version_fields(client, headers, learned):
    response = client.get(detail_url(learned.pk), headers=headers)

    assert response.status_code == 200
    body = response.json()
    assert body.pop("created_at")
    assert body == {
        "id": learned.pk,
        "number": 2,
        "name": "Learned from 2023 deals",
        "status": "draft",
        "provenance": "learned",
        "objective": "won",
        "signal": "weak",
        "summary": "Industry separates won from lost deals; company size does not.",
        "criteria": [
            {
                "key": "industry",
                "label": "Industry: software",
                "field": "industry",
                "kind": "category",
                "values": ["software"],
                "min": None,
                "max": None,
                "match": None,
                "count": None,
                "trigger": None,
                "within_days": None,
                "weight": 100,
                "knockout": False,
                "negate": False,
                "support": {"deals": 210, "accounts": 12},
                "lift": {"win_rate": 1.8, "won_value": 1.25, "lifetime_value": None},
            }
        ],
        "tier_cutoffs": {"A": 80, "B": 40, "C": 20},
        "metrics": {"roc_auc": 0.61, "deals": 512},
        "trained_from": "2023-01-01",
        "trained_to": "2023-12-31",
        "review_due_on": "2024-06-30",
        "activated_at": None,
        "based_on": None,
    }


def test_detail_range_criterion_keeps_open_bound(client, headers, icp_version):
    response = client.get(detail_url(icp_version.pk), headers=headers)

    size = response.json()["criteria"][1]
    assert size["kind"] == "range"
    assert size["min"] == 200.0
    assert size["max"] is None
    assert size["values"] is None
    assert size["support"] is None


def test_list_newest_first(client, headers, icp_version, learned):
    response = client.get(LIST_URL, headers=headers)

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert [row["number"] for row in response.json()["results"]] == [2, 1]


def test_detail_other_tenant_version_not_found(client, headers, other_tenant, scoped):
    theirs = version(other_tenant, 1)

    response = client.get(detail_url(theirs.pk), headers=headers)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_list_omits_other_tenant_versions(client, headers, other_headers, other_tenant, learned):
    with tenant_scope(other_tenant):
        version(other_tenant, 7, name="Globex profile")

    ours = client.get(LIST_URL, headers=headers).json()["results"]
    theirs = client.get(LIST_URL, headers=other_headers).json()["results"]

    assert [row["name"] for row in ours] == ["Learned from 2023 deals"]
    assert [row["name"] for row in theirs] == ["Globex profile"]


def test_list_query_count_is_fixed(client, headers, learned, scoped):
    few = count_queries(client, LIST_URL, headers)
    for number in range(10, 20):
        version(scoped, number)

    many = count_queries(client, LIST_URL, headers)

    # API key lookup, count, page
    assert few == 3
    assert many == 3
