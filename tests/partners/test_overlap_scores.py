from decimal import Decimal

import pytest

from partners.models import PartnerScore, ReachEntry
from partners.services import partner_scores_refresh, reach_replace
from tenancy.errors import DomainError
from tests.factories import AccountFactory, DealFactory, PartnerFactory
from tests.pipeline.conftest import make_active_version


@pytest.fixture
def accounts(scoped):
    """Four tier A/B accounts (one already won) and four tier D accounts."""
    make_active_version(scoped)
    on_profile = [
        AccountFactory(tenant=scoped, domain=f"good{i}.com", fit_tier="A" if i < 2 else "B")
        for i in range(4)
    ]
    off_profile = [
        AccountFactory(tenant=scoped, domain=f"poor{i}.com", fit_tier="D") for i in range(4)
    ]
    DealFactory(tenant=scoped, account=on_profile[0])
    return on_profile, off_profile


def test_reach_replace_normalises_and_matches(scoped, accounts):
    partner = PartnerFactory(tenant=scoped)

    count = reach_replace(
        partner=partner,
        entries=[("https://www.good1.com/", "Good 1"), ("good1.com", "dup"), ("unknown.io", "")],
        source="test",
    )

    entries = {entry.domain: entry for entry in ReachEntry.objects.filter(partner=partner)}
    assert count == 2
    assert set(entries) == {"good1.com", "unknown.io"}
    assert entries["good1.com"].account == accounts[0][1]
    assert entries["unknown.io"].account is None


def test_reach_replace_rejects_invalid_domain(scoped):
    partner = PartnerFactory(tenant=scoped)
    reach_replace(partner=partner, entries=[("keep.com", "")], source="test")

    with pytest.raises(DomainError) as error:
        reach_replace(partner=partner, entries=[("ok.com", ""), ("not a domain", "")], source="t")

    assert error.value.value == "not a domain"
    assert list(ReachEntry.objects.values_list("domain", flat=True)) == ["keep.com"]


def test_overlap_score_parts(scoped, accounts):
    on_profile, off_profile = accounts
    partner = PartnerFactory(tenant=scoped)
    # Reach: the won tier A account, one open target (tier B), two tier D, one unknown.
    domains = [on_profile[0].domain, on_profile[2].domain, off_profile[0].domain,
               off_profile[1].domain, "unknown.io"]  # fmt: skip
    reach_replace(partner=partner, entries=[(d, "") for d in domains], source="test")

    partner_scores_refresh(tenant=scoped)

    score = PartnerScore.objects.get(partner=partner)
    assert score.reach_count == 5
    assert score.matched_count == 4
    assert score.on_profile_count == 2
    assert score.on_profile_share == Decimal("0.5000")
    assert score.target_count == 3
    assert score.target_overlap_count == 1
    assert score.target_coverage == Decimal("0.3333")
    # 60 × 0.5 + 40 × min(1, 0.3333 / 0.25) = 30 + 40
    assert score.overlap_score == 70


def test_overlap_score_empty_reach(scoped, accounts):
    partner = PartnerFactory(tenant=scoped)

    partner_scores_refresh(tenant=scoped)

    score = PartnerScore.objects.get(partner=partner)
    assert (score.reach_count, score.matched_count, score.overlap_score) == (0, 0, 0)
    assert score.on_profile_share == Decimal("0")


def test_overlap_scores_ignore_other_tenant(scoped, accounts, other_tenant):
    from tenancy.scope import tenant_scope

    with tenant_scope(other_tenant):
        AccountFactory(tenant=other_tenant, domain="good2.com", fit_tier="A")
    partner = PartnerFactory(tenant=scoped)
    reach_replace(partner=partner, entries=[("good2.com", "")], source="test")

    partner_scores_refresh(tenant=scoped)

    entry = ReachEntry.objects.get(partner=partner)
    assert entry.account.tenant_id == scoped.pk
    assert PartnerScore.objects.get(partner=partner).target_count == 3
