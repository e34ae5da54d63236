import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from partners.models import Partner, PartnerScore
from reporting.models import PartnerRollup
from tenancy.scope import tenant_scope
from tests.api.conftest import count_queries
from tests.factories import PartnerFactory

LIST_URL = "/api/v1/partners/"
COMPUTED_AT = datetime.datetime(2024, 3, 1, 12, 0, tzinfo=datetime.UTC)


def detail_url(pk: int) -> str:
    return f"/api/v1/partners/{pk}/"


def score(partner: Partner, overlap_score: int, **values) -> PartnerScore:
    defaults = {
        "reach_count": 40,
        "matched_count": 20,
        "on_profile_count": 15,
        "on_profile_share": Decimal("0.7500"),
        "target_count": 60,
        "target_overlap_count": 9,
        "target_coverage": Decimal("0.1500"),
        "computed_at": COMPUTED_AT,
    }
    return PartnerScore.objects.create(
        tenant_id=partner.tenant_id,
        partner=partner,
        overlap_score=overlap_score,
        **{**defaults, **values},
    )


@pytest.fixture
def partners(scoped):
    north = PartnerFactory(
        tenant=scoped,
        external_id="p-north",
        name="North Partners",
        kind=Partner.Kind.RESELLER,
        domain="north.example",
    )
    south = PartnerFactory(tenant=scoped, external_id="p-south", name="South Agency")
    fresh = PartnerFactory(tenant=scoped, external_id="p-fresh", name="Fresh Referrals")
    score(north, 69)
    score(south, 35, reach_count=10, matched_count=2)
    PartnerRollup.objects.create(
        tenant=scoped,
        partner=north,
        won_deals=3,
        lost_deals=1,
        won_revenue=Decimal("45000.00"),
        on_profile_revenue=Decimal("30000.00"),
        tier_mix={
            "A": {"deals": 2, "revenue": "30000.00"},
            "C": {"deals": 1, "revenue": "15000.00"},
        },
        commission_total=Decimal("5250.00"),
        refreshed_at=COMPUTED_AT,
    )
    return {"north": north, "south": south, "fresh": fresh}


def test_list_returns_score_and_rollup(client, headers, partners):
    response = client.get(LIST_URL, headers=headers)

    assert response.status_code == 200
    north = response.json()["results"][0]
    assert north.pop("created_at")
    assert north == {
        "id": partners["north"].pk,
        "external_id": "p-north",
        "name": "North Partners",
        "kind": "reseller",
        "status": "active",
        "domain": "north.example",
        "owner": None,
        "tier": "",
        "notes": "",
        "mapping_visibility": "",
        "score": {
            "reach_count": 40,
            "matched_count": 20,
            "on_profile_count": 15,
            "on_profile_share": "0.7500",
            "target_count": 60,
            "target_overlap_count": 9,
            "target_coverage": "0.1500",
            "overlap_score": 69,
            "computed_at": "2024-03-01T12:00:00Z",
        },
        "rollup": {
            "won_deals": 3,
            "lost_deals": 1,
            "won_revenue": "45000.00",
            "on_profile_revenue": "30000.00",
            "tier_mix": {
                "A": {"deals": 2, "revenue": "30000.00"},
                "C": {"deals": 1, "revenue": "15000.00"},
            },
            "commission_total": "5250.00",
            "refreshed_at": "2024-03-01T12:00:00Z",
        },
    }


def test_list_orders_by_overlap_score(client, headers, partners):
    response = client.get(LIST_URL, headers=headers)

    names = [row["name"] for row in response.json()["results"]]
    assert names == ["North Partners", "South Agency", "Fresh Referrals"]
    assert response.json()["count"] == 3


def test_unscored_partner_has_null_score(client, headers, partners):
    response = client.get(detail_url(partners["fresh"].pk), headers=headers)

    assert response.status_code == 200
    body = response.json()
    assert body["score"] is None
    assert body["rollup"] == {
        "won_deals": 0,
        "lost_deals": 0,
        "won_revenue": "0.00",
        "on_profile_revenue": "0.00",
        "tier_mix": {},
        "commission_total": "0.00",
        "refreshed_at": None,
    }


def test_detail_returns_partner(client, headers, partners):
    response = client.get(detail_url(partners["south"].pk), headers=headers)

    assert response.status_code == 200
    assert response.json()["external_id"] == "p-south"
    assert response.json()["score"]["overlap_score"] == 35
    assert response.json()["score"]["matched_count"] == 2
    assert response.json()["rollup"]["won_deals"] == 0


def test_detail_other_tenant_partner_not_found(client, headers, other_tenant, partners):
    with tenant_scope(other_tenant):
        theirs = PartnerFactory(tenant=other_tenant)
        score(theirs, 90)

    response = client.get(detail_url(theirs.pk), headers=headers)

    assert response.status_code == 404
    assert response.json()["message"] == "No partner has this id."


def test_list_omits_other_tenant_partners(client, headers, other_headers, other_tenant, partners):
    with tenant_scope(other_tenant):
        theirs = PartnerFactory(tenant=other_tenant, name="Globex Partners")
        score(theirs, 99)
        # Rows of another tenant pointing at our partner must not leak into its score.
        PartnerRollup.all_tenants.create(
            tenant=other_tenant, partner=partners["fresh"], won_deals=7
        )

    ours = client.get(LIST_URL, headers=headers).json()["results"]
    theirs_list = client.get(LIST_URL, headers=other_headers).json()["results"]

    assert [row["name"] for row in ours] == ["North Partners", "South Agency", "Fresh Referrals"]
    assert ours[2]["rollup"]["won_deals"] == 0
    assert [row["name"] for row in theirs_list] == ["Globex Partners"]


def test_list_query_count_is_fixed(client, headers, partners, scoped):
    few = count_queries(client, LIST_URL, headers)
    for number in range(10):
        partner = PartnerFactory(tenant=scoped)
        score(partner, number)
        PartnerRollup.objects.create(
            tenant=scoped, partner=partner, won_deals=number, refreshed_at=timezone.now()
        )

    many = count_queries(client, LIST_URL, headers)

    # API key lookup, count, page with score and roll-up subqueries
    assert few == 3
    assert many == 3
