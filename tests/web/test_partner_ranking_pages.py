"""The prospect ranking, segment and partner pages: parts, results, filters and isolation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from partners import views
from partners.models import Partner, PartnerScore, ReachEntry
from partners.services import partner_scores_refresh
from tenancy.scope import tenant_scope
from tests.factories import PartnerFactory

RANKING = reverse("partners:partner_ranking")
SEGMENTS = reverse("partners:partner_segments")
PARTNERS = reverse("partners:partner_list")


def prospect(tenant, name, overlap, status=Partner.Status.PROSPECT, **values):
    with tenant_scope(tenant):
        partner = PartnerFactory(tenant=tenant, name=name, status=status)
        PartnerScore.objects.create(
            tenant=tenant,
            partner=partner,
            overlap_score=overlap,
            segment=values.pop("segment", PartnerScore.Segment.NURTURE),
            segment_basis=PartnerScore.SegmentBasis.OVERLAP_ONLY,
            **values,
        )
    return partner


@pytest.fixture
def prospects(program, other_program):
    return {
        "best": prospect(
            program.tenant,
            "Best Prospect",
            80,
            on_profile_points=Decimal("45.00"),
            coverage_points=Decimal("35.00"),
            segment="grow",
        ),  # fmt: skip
        "next": prospect(program.tenant, "Next Applicant", 40, Partner.Status.APPLIED),
        "last": prospect(program.tenant, "Last Prospect", 10),
        "stranger": prospect(other_program.tenant, "Globex Prospect", 99),
    }


def test_ranking_page_explains_and_links(staff_client, prospects):
    response = staff_client.get(RANKING)

    content = response.content.decode()
    assert response.status_code == 200
    assert (
        "Partners are ranked by overlap score, 60 × on-profile share + 40 × "
        "min(1, target coverage / 0.25) rounded to a whole number, with ties going to the "
        "larger fit-weighted reach and then to the name in alphabetical order."
    ) in content
    ranked = [row["partner"].name for row in response.context["rows"]]
    assert ranked == ["Best Prospect", "Next Applicant", "Last Prospect"]
    assert reverse("partners:partner_detail", args=[prospects["best"].pk]) in content
    assert "45.00 of 60 points" in content
    assert "35.00 of 40 points" in content
    # Active partners are signed already, so the default ranking leaves them out.
    assert "Acme Referrals" not in content
    assert "Globex Prospect" not in content


def test_ranking_page_filters(staff_client, prospects):
    response = staff_client.get(RANKING, {"status": ["applied", "active"]})

    ranked = [row["partner"].name for row in response.context["rows"]]
    assert ranked == ["Acme Referrals", "Next Applicant"]
    assert response.context["form"]["status"].value() == ["applied", "active"]


def test_ranking_page_kind_filter_and_bad_kind(staff_client, prospects):
    by_kind = staff_client.get(RANKING, {"kind": "agency"})
    bad = staff_client.get(RANKING, {"kind": "broker"})

    assert by_kind.context["rows"] == []
    assert "No partners with these statuses and kind" in by_kind.content.decode()
    assert "kind: Select a valid choice" in bad.content.decode()
    assert len(bad.context["rows"]) == 3


def test_ranking_page_numbers_later_pages(staff_client, prospects, monkeypatch):
    monkeypatch.setattr(views, "RANKING_PER_PAGE", 2)

    response = staff_client.get(RANKING, {"page": 2})

    assert [(row["rank"], row["partner"].name) for row in response.context["rows"]] == [
        (3, "Last Prospect")
    ]


def test_segments_page_shows_rules_and_counts(staff_client, prospects):
    response = staff_client.get(SEGMENTS)

    content = response.content.decode()
    assert response.status_code == 200
    assert "segmented on their overlap score alone" in content
    assert "Closed deals (won + lost) ≥ 5 and Overlap score ≥ 60 and Good results = yes" in content
    assert "Win rate ≥ 25% and Customers in tier A or B ≥ 50%" in content
    segments = response.context["rules"]["segments"]
    counts = {segment["key"]: segment["partners"] for segment in segments}
    # Acme's own partners only: two nurture prospects and one grow.
    assert counts == {"strategic": 0, "grow": 1, "nurture": 2, "deprioritise": 0}
    assert f'href="{PARTNERS}?segment=nurture"' in content


def test_partner_list_filters_by_segment(staff_client, prospects):
    response = staff_client.get(PARTNERS, {"segment": "grow"})

    names = [partner.name for partner in response.context["page"].object_list]
    assert names == ["Best Prospect"]
    assert "on overlap alone" in response.content.decode()


def test_partner_list_empty_segment(staff_client, prospects):
    response = staff_client.get(PARTNERS, {"segment": "strategic"})

    assert "No partner matches these filters." in response.content.decode()


@pytest.fixture
def refreshed(program):
    """The Acme program scored by a real refresh, with one unmatched entry scored alone."""
    with tenant_scope(program.tenant):
        ReachEntry.objects.create(
            tenant=program.tenant,
            partner=program.partner,
            domain="outside.com",
            industry="software",
            employees=900,
        )
        partner_scores_refresh(tenant=program.tenant)
    return program


def test_partner_detail_shows_parts_results_and_segment(staff_client, refreshed):
    response = staff_client.get(reverse("partners:partner_detail", args=[refreshed.partner.pk]))

    content = response.content.decode()
    parts = {part.key: part for part in response.context["parts"]}
    assert parts["on_profile"].max_points == 60
    assert f"{parts['on_profile'].points} of 60" in content
    assert f"{parts['target_overlap'].points} of 40" in content
    assert "Open pipeline reached" in content
    assert "Fit-weighted reach" in content
    assert "not in your CRM" in content
    assert "no match, no firmographics to score" in content
    # One won deal, no lost deal: the win rate is 100 %.
    assert "100% · 1 won of 1 closed" in content
    assert "because the partner has fewer than 5 closed deals" in content
    assert "Rule: Closed deals (won + lost) &lt; 5" in content


def test_partner_detail_without_closed_deals(staff_client, prospects):
    response = staff_client.get(reverse("partners:partner_detail", args=[prospects["last"].pk]))

    assert "no closed deals" in response.content.decode()


def test_partner_detail_history_in_page_body(staff_client, program):
    response = staff_client.get(reverse("partners:partner_detail", args=[program.partner.pk]))

    content = response.content.decode()
    title = content[content.index("<title>") : content.index("</title>")]
    assert "History" not in title
    assert "<h2>History</h2>" in content
