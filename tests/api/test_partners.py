import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from partners.models import Partner, PartnerScore
from partners.overlap import PART_KEYS
from reporting.models import PartnerRollup
from tenancy.scope import tenant_scope
from tests.api.conftest import count_queries
from tests.factories import PartnerFactory

LIST_URL = "/api/v1/partners/"
COMPUTED_AT = datetime.datetime(2024, 3, 1, 12, 0, tzinfo=datetime.UTC)


def detail_url(pk: int) -> str:
    return f"/api/v1/partners/{pk}/"


def score(partner: Partner, overlap_score: int, **values) -> PartnerScore:
    # 60 × 15/20 + 40 × min(1, 0.15 / 0.25) = 45 + 24 = 69
    defaults = {
        "reach_count": 40,
        "matched_count": 20,
        "assessed_count": 20,
        "on_profile_count": 15,
        "on_profile_share": Decimal("0.7500"),
        "target_count": 60,
        "target_overlap_count": 9,
        "target_coverage": Decimal("0.1500"),
        "pipeline_overlap_count": 2,
        "pipeline_overlap_amount": Decimal("8000.00"),
        "customer_overlap_count": 1,
        "fit_weighted_reach": Decimal("14.50"),
        "fit_weighted_per_entry": Decimal("0.3625"),
        "on_profile_points": Decimal("45.00"),
        "coverage_points": Decimal("24.00"),
        "segment": PartnerScore.Segment.GROW,
        "segment_basis": PartnerScore.SegmentBasis.OVERLAP_ONLY,
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


def part(key_and_label, **values) -> dict:
    key, label = key_and_label
    empty = {"count": None, "share": None, "total": None}
    return {"key": key, "label": label, **empty, **values}


def test_list_returns_score_and_rollup(client, headers, partners):
    response = client.get(LIST_URL, headers=headers)

    assert response.status_code == 200
    north = response.json()["results"][0]
    assert north.pop("created_at")
    north_parts = [(row["key"], row["label"]) for row in north["score"]["parts"]]
    assert [key for key, _ in north_parts] == list(PART_KEYS)
    rules = [row.pop("rule") for row in north["score"]["parts"]]
    assert "60 ×" in rules[2]
    assert "40 × min(1, coverage / 0.25)" in rules[3]
    assert "your 60 tier A/B accounts" in rules[3]
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
            "assessed_count": 20,
            "on_profile_count": 15,
            "on_profile_share": "0.7500",
            "unmatched_scored_count": 0,
            "unmatched_on_profile_count": 0,
            "target_count": 60,
            "target_overlap_count": 9,
            "target_coverage": "0.1500",
            "pipeline_overlap_count": 2,
            "pipeline_overlap_amount": "8000.00",
            "customer_overlap_count": 1,
            "fit_weighted_reach": "14.50",
            "fit_weighted_per_entry": "0.3625",
            "on_profile_points": "45.00",
            "coverage_points": "24.00",
            "overlap_score": 69,
            "parts": [
                part(north_parts[0], count=40, points="0.00", max_points=0),
                part(north_parts[1], count=20, points="0.00", max_points=0),
                part(north_parts[2], count=15, share="0.7500", points="45.00", max_points=60),
                part(north_parts[3], count=9, share="0.1500", points="24.00", max_points=40),
                part(north_parts[4], count=2, total="8000.00", points="0.00", max_points=0),
                part(north_parts[5], count=1, points="0.00", max_points=0),
                part(north_parts[6], share="0.3625", total="14.50", points="0.00", max_points=0),
            ],
            "computed_at": "2024-03-01T12:00:00Z",
        },
        "quality": {
            "won_deal_count": 0,
            "lost_deal_count": 0,
            "win_rate": None,
            "won_revenue": "0.00",
            "on_profile_won_revenue": "0.00",
            "customer_count": 0,
            "customer_tiers": {"A": 0, "B": 0, "C": 0, "D": 0, "unscored": 0},
            "on_profile_customer_share": None,
            "churned_customer_count": 0,
            "churn_rate": None,
            "commission_cost": "0.0000",
            "lifetime_value": "0.00",
            "commission_to_lifetime_value": None,
        },
        "segment": {"key": "grow", "basis": "overlap_only"},
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
    assert body["quality"] is None
    assert body["segment"] is None
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
