"""The prospect ranking and segment endpoints, and the segment filter of the partner list."""

from decimal import Decimal

import pytest

from partners.models import Partner, PartnerScore
from tenancy.scope import tenant_scope
from tests.api.conftest import count_queries
from tests.factories import PartnerFactory

RANKING_URL = "/api/v1/partners/ranking/"
SEGMENTS_URL = "/api/v1/partners/segments/"
LIST_URL = "/api/v1/partners/"


def scored(tenant, name, status, overlap, fit_weighted="5.00", kind=Partner.Kind.REFERRAL,
           segment=PartnerScore.Segment.GROW):  # fmt: skip
    partner = PartnerFactory(tenant=tenant, name=name, status=status, kind=kind)
    PartnerScore.objects.create(
        tenant=tenant,
        partner=partner,
        overlap_score=overlap,
        fit_weighted_reach=Decimal(fit_weighted),
        on_profile_points=Decimal(overlap),
        segment=segment,
        segment_basis=PartnerScore.SegmentBasis.OVERLAP_ONLY,
    )
    return partner


@pytest.fixture
def ranked(scoped, other_tenant):
    partners = {
        "zeta": scored(scoped, "Zeta", Partner.Status.PROSPECT, 70),
        "wide": scored(scoped, "Wide", Partner.Status.APPLIED, 70, "8.00", Partner.Kind.RESELLER),
        "alpha": scored(scoped, "alpha", Partner.Status.PROSPECT, 70),
        "signed": scored(
            scoped, "Signed", Partner.Status.ACTIVE, 90, segment=PartnerScore.Segment.STRATEGIC
        ),  # fmt: skip
        "new": PartnerFactory(tenant=scoped, name="Unscored", status=Partner.Status.PROSPECT),
    }
    with tenant_scope(other_tenant):
        partners["stranger"] = scored(other_tenant, "Stranger", Partner.Status.PROSPECT, 100)
    return partners


def names(response) -> list[str]:
    return [row["name"] for row in response.json()["results"]]


def test_ranking_orders_prospects_and_applicants(client, headers, ranked):
    response = client.get(RANKING_URL, headers=headers)

    assert response.status_code == 200
    # Ties on 70 go to the larger fit-weighted reach, then the name without case.
    assert names(response) == ["Wide", "alpha", "Zeta", "Unscored"]
    assert [row["rank"] for row in response.json()["results"]] == [1, 2, 3, 4]
    assert response.json()["count"] == 4


def test_ranking_row_links_and_explains(client, headers, ranked):
    row = client.get(RANKING_URL, headers=headers).json()["results"][0]

    assert row["id"] == ranked["wide"].pk
    assert row["url"] == f"/api/v1/partners/{ranked['wide'].pk}/"
    assert (row["kind"], row["status"]) == ("reseller", "applied")
    assert row["segment"] == {"key": "grow", "basis": "overlap_only"}
    assert row["score"]["overlap_score"] == 70
    assert row["score"]["fit_weighted_reach"] == "8.00"
    assert [part["key"] for part in row["score"]["parts"]][2:4] == ["on_profile", "target_overlap"]
    unscored = client.get(RANKING_URL, headers=headers).json()["results"][-1]
    assert (unscored["score"], unscored["segment"]) == (None, None)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("?status=active", ["Signed"], id="active"),
        pytest.param("?status=prospect", ["alpha", "Zeta", "Unscored"], id="prospect"),
        pytest.param("?status=applied,active", ["Signed", "Wide"], id="two-statuses"),
        pytest.param("?kind=reseller", ["Wide"], id="kind"),
        pytest.param("?status=prospect&kind=reseller", [], id="no-match"),
    ],
)
def test_ranking_filters(client, headers, ranked, query, expected):
    response = client.get(RANKING_URL + query, headers=headers)

    assert response.status_code == 200
    assert names(response) == expected


def test_ranking_pages_keep_ranks(client, headers, ranked):
    response = client.get(f"{RANKING_URL}?limit=2&offset=2", headers=headers)

    assert names(response) == ["Zeta", "Unscored"]
    assert [row["rank"] for row in response.json()["results"]] == [3, 4]
    assert response.json()["count"] == 4


@pytest.mark.parametrize(
    ("query", "field"),
    [("?status=signed", "status"), ("?status=,", "status"), ("?kind=broker", "kind")],
)
def test_ranking_rejects_bad_filter(client, headers, ranked, query, field):
    response = client.get(RANKING_URL + query, headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_ranking_hides_other_tenant(client, headers, other_headers, ranked):
    own = names(client.get(RANKING_URL, headers=headers))
    other = names(client.get(RANKING_URL, headers=other_headers))

    assert "Stranger" not in own
    assert other == ["Stranger"]


def test_ranking_query_count_is_fixed(client, headers, ranked, scoped):
    few = count_queries(client, RANKING_URL, headers)
    for index in range(5):
        scored(scoped, f"More {index}", Partner.Status.PROSPECT, index)

    assert count_queries(client, RANKING_URL, headers) == few


def test_segments_return_rules_and_counts(client, headers, ranked):
    response = client.get(SEGMENTS_URL, headers=headers)

    assert response.status_code == 200
    body = response.json()
    counts = {segment["key"]: segment["partners"] for segment in body["segments"]}
    # The other tenant's grow partner is not counted.
    assert counts == {"strategic": 1, "grow": 3, "nurture": 0, "deprioritise": 0}
    assert body["min_closed_deals"] == 5
    grow = body["segments"][1]
    assert [rule["basis"] for rule in grow["rules"]] == ["overlap_and_results", "overlap_only"]
    assert grow["rules"][1]["conditions"] == [
        {"metric": "closed_deal_count", "label": "Closed deals (won + lost)",
         "operator": "<", "value": 5},
        {"metric": "overlap_score", "label": "Overlap score", "operator": ">=", "value": 60},
    ]  # fmt: skip
    assert body["good_results"][0] == {
        "metric": "win_rate", "label": "Win rate", "operator": ">=", "value": "0.25",
    }  # fmt: skip


def test_partner_list_filters_by_segment(client, headers, ranked):
    response = client.get(f"{LIST_URL}?segment=strategic", headers=headers)

    assert response.status_code == 200
    assert names(response) == ["Signed"]
    assert response.json()["results"][0]["segment"] == {"key": "strategic", "basis": "overlap_only"}


def test_partner_list_rejects_unknown_segment(client, headers, ranked):
    response = client.get(f"{LIST_URL}?segment=gold", headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "segment"


def test_segments_need_credentials(client, ranked):
    response = client.get(SEGMENTS_URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_segments_count_own_tenant_in_session(client, other_admin_user, ranked):
    client.force_login(other_admin_user)

    body = client.get(SEGMENTS_URL).json()

    counts = {segment["key"]: segment["partners"] for segment in body["segments"]}
    assert counts == {"strategic": 0, "grow": 1, "nurture": 0, "deprioritise": 0}
