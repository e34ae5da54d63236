"""Reach entries that match no account are scored on their own firmographics as icp.scoring does."""

from decimal import Decimal

import pytest

from icp.models import IcpVersion
from icp.scoring import accounts_frame, score_frame
from icp.services import accounts_rescore
from partners.models import ReachEntry
from partners.reach_scoring import FIRMOGRAPHIC_FIELDS
from partners.services import partner_scores_refresh
from tests.factories import AccountFactory, PartnerFactory
from tests.partners.scoring_data import active_version

# Every kind an entry can match, a knock-out, a negated criterion and two criteria on
# fields an entry never carries (year established, a buying trigger).
MIXED_CRITERIA = [
    {"key": "industry", "label": "Software", "field": "industry", "kind": "category",
     "values": ["Software", "Fintech"], "weight": 20},
    {"key": "size", "label": "200-5,000 employees", "field": "employees", "kind": "range",
     "min": 200, "max": 5000, "weight": 20},
    {"key": "revenue", "label": "Revenue 10M+", "field": "annual_revenue", "kind": "range",
     "min": 10_000_000, "max": None, "weight": 15},
    {"key": "not_us", "label": "Outside US", "field": "country", "kind": "category",
     "values": ["US"], "negate": True, "weight": 10},
    {"key": "stack", "label": "Salesforce or HubSpot", "field": "tech_stack", "kind": "tech_stack",
     "values": ["salesforce", "hubspot"], "match": "any", "weight": 15},
    {"key": "embargo", "label": "Region XX", "field": "region", "kind": "category",
     "values": ["XX"], "knockout": True, "weight": 0},
    {"key": "age", "label": "Founded before 2000", "field": "year_established", "kind": "range",
     "min": None, "max": 2000, "weight": 10},
    {"key": "funding", "label": "Funded lately", "field": "triggers", "kind": "trigger",
     "trigger": "funding", "within_days": 180, "weight": 10},
]  # fmt: skip

ENTRIES = {
    "all.com": {
        "industry": "software",
        "employees": 800,
        "annual_revenue": Decimal("25000000.00"),
        "country": "DE",
        "region": "BY",
        "tech_stack": ["HubSpot", "AWS"],
    },
    "us-big.com": {"industry": "Fintech", "employees": 9000, "country": "US"},
    "knocked.com": {"industry": "software", "employees": 800, "region": "XX"},
    "country-only.com": {"country": "GB"},
    "stack-only.com": {"tech_stack": ["salesforce"]},
    "revenue-edge.com": {"annual_revenue": Decimal("10000000.00"), "employees": 5000},
}


@pytest.fixture
def version(scoped) -> IcpVersion:
    return active_version(scoped, criteria=MIXED_CRITERIA)


@pytest.fixture
def partner(scoped):
    partner = PartnerFactory(tenant=scoped)
    for domain, values in ENTRIES.items():
        ReachEntry.objects.create(tenant=scoped, partner=partner, domain=domain, **values)
    return partner


def expected_fits(version, today) -> dict[str, tuple[int, str]]:
    """Score accounts with the entries' firmographics, as icp.scoring scores accounts."""
    rows = [
        {"id": index, **{field: values.get(field) for field in FIRMOGRAPHIC_FIELDS}}
        for index, values in enumerate(ENTRIES.values())
    ]
    scored = score_frame(accounts_frame(rows), version.criteria, version.tier_cutoffs, today)
    return {
        domain: (int(scored["score"].iloc[index]), str(scored["tier"].iloc[index]))
        for index, domain in enumerate(ENTRIES)
    }


def stored_fits(partner) -> dict[str, tuple]:
    return {
        entry.domain: (entry.fit_score, entry.fit_tier)
        for entry in ReachEntry.objects.filter(partner=partner)
    }


def test_unmatched_fits_match_icp_scoring(scoped, version, partner):
    partner_scores_refresh(tenant=scoped)

    assert stored_fits(partner) == expected_fits(version, scoped.today())
    assert set(ReachEntry.objects.values_list("fit_version_id", flat=True)) == {version.pk}


def test_unmatched_fits_known_values(scoped, version, partner):
    partner_scores_refresh(tenant=scoped)

    fits = stored_fits(partner)
    # 20 + 20 + 15 + 10 + 15 of the 100 scored weight (the knock-out has none).
    assert fits["all.com"] == (80, "A")
    # A matched knock-out scores 0 and tier D whatever else matches.
    assert fits["knocked.com"] == (0, "D")
    # A missing region does not knock out: missing values never match.
    assert fits["country-only.com"] == (10, "D")
    # The range minimum is inclusive and the maximum exclusive.
    assert fits["revenue-edge.com"] == (15, "D")


def test_matched_entry_uses_account_fit(scoped, version, partner):
    partner_scores_refresh(tenant=scoped)
    AccountFactory(tenant=scoped, domain="all.com", fit_score=12, fit_tier="D")

    partner_scores_refresh(tenant=scoped)

    entry = ReachEntry.objects.get(domain="all.com")
    assert entry.account is not None
    assert (entry.fit_score, entry.fit_tier, entry.fit_version_id) == (None, "", None)


def test_cleared_firmographics_clear_fit(scoped, version, partner):
    partner_scores_refresh(tenant=scoped)
    ReachEntry.objects.filter(domain="country-only.com").update(country="")

    partner_scores_refresh(tenant=scoped)

    assert stored_fits(partner)["country-only.com"] == (None, "")


def test_no_active_version_clears_fits(scoped, version, partner):
    partner_scores_refresh(tenant=scoped)
    IcpVersion.objects.filter(pk=version.pk).update(status=IcpVersion.Status.RETIRED)

    partner_scores_refresh(tenant=scoped)

    assert set(stored_fits(partner).values()) == {(None, "")}


def test_trigger_criterion_never_matches_entry(scoped, partner):
    only_trigger = [dict(MIXED_CRITERIA[-1], weight=1)]
    active_version(scoped, criteria=only_trigger)

    partner_scores_refresh(tenant=scoped)

    assert set(stored_fits(partner).values()) == {(0, "D")}


def test_unmatched_fits_equal_rescored_accounts(scoped, version, partner):
    """Accounts with the same firmographics, rescored by icp.rescoring, get the same fits."""
    # The factory fills industry, employees, revenue and country; clear them first.
    unset = {"industry": "", "employees": None, "annual_revenue": None, "country": ""}
    twins = {
        domain: AccountFactory(tenant=scoped, domain=f"twin-{domain}", **{**unset, **values})
        for domain, values in ENTRIES.items()
    }
    accounts_rescore(tenant=scoped)

    partner_scores_refresh(tenant=scoped)

    fits = stored_fits(partner)
    for domain, twin in twins.items():
        twin.refresh_from_db()
        assert fits[domain] == (twin.fit_score, twin.fit_tier), domain
