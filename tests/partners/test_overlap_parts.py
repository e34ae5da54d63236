"""Every overlap part of a refreshed partner score, on hand-built accounts and reach."""

from decimal import Decimal

import pytest

from partners.models import PartnerScore, ReachEntry
from partners.services import partner_scores_refresh
from tests.factories import PartnerFactory
from tests.partners.scoring_data import account, active_version, deal, overlap_world, reach


@pytest.fixture
def version(scoped):
    return active_version(scoped)


def refreshed(tenant, partner) -> PartnerScore:
    partner_scores_refresh(tenant=tenant)
    return PartnerScore.objects.get(partner=partner)


def test_every_part_counted(scoped, version):
    partner, _ = overlap_world(scoped)

    score = refreshed(scoped, partner)

    assert score.reach_count == 10
    assert score.matched_count == 6
    # Six matched entries plus three unmatched ones with firmographics.
    assert score.assessed_count == 9
    # Matched: target A, target B, customer A, churned B. Unmatched: new-a, new-b.
    assert score.on_profile_count == 6
    assert score.on_profile_share == Decimal("0.6667")
    assert score.unmatched_scored_count == 3
    assert score.unmatched_on_profile_count == 2
    assert score.target_count == 2
    assert score.target_overlap_count == 2
    assert score.target_coverage == Decimal("1.0000")
    assert score.pipeline_overlap_count == 2
    assert score.pipeline_overlap_amount == Decimal("2800.00")
    assert score.customer_overlap_count == 1
    # (100 + 50 + 100 + 50 + 0 + 100 + 50 + 0) / 100, over 10 entries.
    assert score.fit_weighted_reach == Decimal("4.50")
    assert score.fit_weighted_per_entry == Decimal("0.4500")
    # 60 × 6/9 + 40 × min(1, 1 / 0.25) = 40 + 40
    assert score.on_profile_points == Decimal("40.00")
    assert score.coverage_points == Decimal("40.00")
    assert score.overlap_score == 80
    assert score.icp_version == version


def test_zero_reach_scores_zero(scoped, version):
    overlap_world(scoped)
    partner = PartnerFactory(tenant=scoped, name="Empty")

    score = refreshed(scoped, partner)

    assert (score.reach_count, score.matched_count, score.assessed_count) == (0, 0, 0)
    assert (score.on_profile_count, score.on_profile_share) == (0, Decimal("0.0000"))
    assert (score.target_count, score.target_overlap_count) == (2, 0)
    assert (score.pipeline_overlap_count, score.pipeline_overlap_amount) == (0, Decimal("0.00"))
    assert score.customer_overlap_count == 0
    assert (score.fit_weighted_reach, score.fit_weighted_per_entry) == (
        Decimal("0.00"),
        Decimal("0.0000"),
    )
    assert (score.on_profile_points, score.coverage_points, score.overlap_score) == (
        Decimal("0.00"),
        Decimal("0.00"),
        0,
    )


def test_all_unmatched_scored_on_own_firmographics(scoped, version):
    overlap_world(scoped)
    partner = PartnerFactory(tenant=scoped, name="Outside the CRM")
    reach(
        partner,
        "out-a.com",
        "out-b.com",
        "out-d.com",
        out_a_com={"industry": "software", "employees": 1000},
        out_b_com={"industry": "software"},
        out_d_com={"country": "FR"},
    )

    score = refreshed(scoped, partner)

    assert (score.reach_count, score.matched_count, score.assessed_count) == (3, 0, 3)
    assert (score.on_profile_count, score.unmatched_on_profile_count) == (2, 2)
    assert score.unmatched_scored_count == 3
    assert score.on_profile_share == Decimal("0.6667")
    # Companies outside the CRM are never open targets, pipeline or customers.
    assert (score.target_overlap_count, score.pipeline_overlap_count) == (0, 0)
    assert score.customer_overlap_count == 0
    assert score.fit_weighted_reach == Decimal("1.50")
    assert score.fit_weighted_per_entry == Decimal("0.5000")
    # 60 × 2/3 + 0
    assert score.overlap_score == 40


def test_all_customers_earn_share_but_no_coverage(scoped, version):
    customers = [account(scoped, f"cust{i}.com", 100, "A") for i in range(3)]
    for customer in customers:
        deal(scoped, customer)
    account(scoped, "open-target.com", 50, "B")
    partner = PartnerFactory(tenant=scoped, name="Customers only")
    reach(partner, *(customer.domain for customer in customers))

    score = refreshed(scoped, partner)

    assert score.customer_overlap_count == 3
    assert score.on_profile_count == 3
    assert score.on_profile_share == Decimal("1.0000")
    assert (score.target_count, score.target_overlap_count) == (1, 0)
    assert score.overlap_score == 60


def test_unmatched_without_firmographics_only_counts_in_reach(scoped, version):
    partner = PartnerFactory(tenant=scoped)
    reach(partner, "unknown1.com", "unknown2.com")

    score = refreshed(scoped, partner)

    assert (score.reach_count, score.assessed_count, score.unmatched_scored_count) == (2, 0, 0)
    assert score.overlap_score == 0
    assert list(ReachEntry.objects.values_list("fit_score", flat=True)) == [None, None]
