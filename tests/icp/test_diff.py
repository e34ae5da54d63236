"""Diff of two ICP versions: criteria changes, tier movement and partner overlap changes."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from icp.diff import criteria_changes, cutoff_changes, icp_versions_diff, part_changes
from icp.models import IcpVersion
from icp.services import accounts_rescore
from partners.models import PartnerScore, ReachEntry
from partners.services import partner_scores_refresh, reach_replace
from tenancy.errors import NotFound
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory, PartnerFactory

KNOCKOUT = {
    "key": "sanctioned",
    "label": "Knock-out: country KP",
    "kind": "category",
    "field": "country",
    "values": ["KP"],
    "weight": 0,
    "knockout": True,
}
LEFT_CRITERIA = [
    {
        "key": "industry",
        "label": "Software",
        "kind": "category",
        "field": "industry",
        "values": ["software"],
        "weight": 70,
    },
    {
        "key": "size",
        "label": "200+ employees",
        "kind": "range",
        "field": "employees",
        "min": 200,
        "max": None,
        "weight": 30,
    },
    KNOCKOUT,
]
RIGHT_CRITERIA = [
    {
        "key": "industry",
        "label": "Software or fintech",
        "kind": "category",
        "field": "industry",
        "values": ["Software", "fintech"],
        "weight": 50,
    },
    KNOCKOUT,
    {
        "key": "country",
        "label": "United States",
        "kind": "category",
        "field": "country",
        "values": ["US"],
        "weight": 50,
    },
]
LEFT_CUTOFFS = {"A": 80, "B": 50, "C": 20}
RIGHT_CUTOFFS = {"A": 75, "B": 50, "C": 25}


def version_create(tenant, number, criteria, cutoffs, status=IcpVersion.Status.DRAFT):
    return IcpVersion.all_tenants.create(
        tenant=tenant,
        number=number,
        name=f"Version {number}",
        status=status,
        provenance=IcpVersion.Provenance.MANUAL,
        criteria=criteria,
        tier_cutoffs=cutoffs,
    )


@pytest.fixture
def versions(scoped):
    left = version_create(scoped, 1, LEFT_CRITERIA, LEFT_CUTOFFS, IcpVersion.Status.ACTIVE)
    right = version_create(scoped, 2, RIGHT_CRITERIA, RIGHT_CUTOFFS)
    return left, right


@pytest.fixture
def accounts(scoped):
    """Seven accounts; the comments give score and tier under the left, then the right version."""
    rows = {
        "a1": ("software", 500, "US"),  # 100 A, 100 A
        "a2": ("software", 100, "DE"),  # 70 B, 50 B
        "a3": ("fintech", 500, "US"),  # 30 C, 100 A
        "a4": ("retail", 50, "US"),  # 0 D, 50 B
        "a5": ("retail", 500, "DE"),  # 30 C, 0 D
        "a6": ("software", 500, "KP"),  # knocked out: 0 D, 0 D
        "a7": ("software", 300, "DE"),  # 100 A, 50 B
    }
    created = {
        name: AccountFactory(
            tenant=scoped,
            name=name,
            domain=f"{name}.com",
            industry=industry,
            employees=employees,
            country=country,
        )
        for name, (industry, employees, country) in rows.items()
    }
    DealFactory(tenant=scoped, account=created["a1"])
    return created


def test_criteria_changes_by_status(versions):
    left, right = versions

    rows = {row["key"]: row for row in criteria_changes(left.criteria, right.criteria)}

    assert [row["key"] for row in criteria_changes(left.criteria, right.criteria)] == [
        "industry",
        "size",
        "sanctioned",
        "country",
    ]
    assert rows["industry"]["status"] == "changed"
    assert rows["size"]["status"] == "removed"
    assert rows["size"]["after"] is None
    assert rows["sanctioned"]["status"] == "unchanged"
    assert rows["sanctioned"]["changes"] == []
    assert rows["country"]["status"] == "added"
    assert rows["country"]["before"] is None


def test_criteria_changes_parts_and_shares(versions):
    left, right = versions

    rows = {row["key"]: row for row in criteria_changes(left.criteria, right.criteria)}

    changes = {change["part"]: change for change in rows["industry"]["changes"]}
    assert set(changes) == {"label", "weight", "values"}
    assert (changes["label"]["before"], changes["label"]["after"]) == (
        "Software",
        "Software or fintech",
    )
    assert (changes["weight"]["before"], changes["weight"]["after"]) == (70, 50)
    # "software" and "Software" are the same value to scoring.
    assert changes["values"]["added"] == ["fintech"]
    assert changes["values"]["removed"] == []
    assert (rows["industry"]["share_before"], rows["industry"]["share_after"]) == (0.7, 0.5)
    assert (rows["size"]["share_before"], rows["size"]["share_after"]) == (0.3, None)
    assert (rows["country"]["share_before"], rows["country"]["share_after"]) == (None, 0.5)
    assert rows["sanctioned"]["share_before"] is None
    assert rows["sanctioned"]["share_after"] is None


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (
            {"kind": "range", "field": "employees", "min": 100, "max": 500, "weight": 10},
            {"kind": "range", "field": "employees", "min": 100.0, "max": 1000, "weight": 10},
            {"max": (500, 1000), "label": ("Employees 100 to 500", "Employees 100 to 1,000")},
        ),
        (
            {"kind": "tech_stack", "field": "tech_stack", "values": ["a", "b"], "match": "any",
             "weight": 5, "label": "Tech"},
            {"kind": "tech_stack", "field": "tech_stack", "values": ["a", "b"],
             "match": "at_least", "count": 2, "weight": 5, "label": "Tech"},
            {"match": ("any", "at_least"), "count": (None, 2)},
        ),
        (
            {"kind": "trigger", "field": "triggers", "trigger": "funding", "within_days": 90,
             "weight": 5, "label": "Trigger"},
            {"kind": "trigger", "field": "triggers", "trigger": "hiring", "within_days": 30,
             "weight": 5, "label": "Trigger"},
            {"trigger": ("funding", "hiring"), "within_days": (90, 30)},
        ),
        (
            {"kind": "category", "field": "country", "values": ["US"], "weight": 5, "label": "C"},
            {"kind": "category", "field": "country", "values": ["US"], "weight": 0,
             "knockout": True, "negate": True, "label": "C"},
            {"weight": (5, 0), "knockout": (False, True), "negate": (False, True)},
        ),
        (
            {"kind": "willingness_to_pay", "field": "budget", "min": 1000, "max": None,
             "weight": 5, "label": "Pay"},
            {"kind": "willingness_to_pay", "field": "deal_size", "min": None, "max": 1000,
             "weight": 5, "label": "Pay"},
            {"field": ("budget", "deal_size"), "min": (1000, None), "max": (None, 1000)},
        ),
    ],
)  # fmt: skip
def test_part_changes_by_kind(before, after, expected):
    changes = part_changes({"key": "k", **before}, {"key": "k", **after})

    assert {change["part"]: (change["before"], change["after"]) for change in changes} == expected


def test_part_changes_values_letter_case():
    before = {"key": "k", "kind": "category", "field": "industry", "values": ["Software", "SaaS"]}
    after = {"key": "k", "kind": "category", "field": "industry", "values": ["saas", "Retail"]}

    changes = part_changes({**before, "label": "L"}, {**after, "label": "L"})
    case_only = part_changes(
        {**before, "label": "L"}, {**before, "values": ["software", "saas "], "label": "L"}
    )

    assert changes == [
        {
            "part": "values",
            "before": ["Software", "SaaS"],
            "after": ["saas", "Retail"],
            "added": ["Retail"],
            "removed": ["Software"],
        }
    ]
    assert case_only == []


def test_cutoff_changes(versions):
    left, right = versions

    rows = cutoff_changes(left.tier_cutoffs, right.tier_cutoffs)

    assert rows == [
        {"tier": "A", "before": 80, "after": 75, "changed": True},
        {"tier": "B", "before": 50, "after": 50, "changed": False},
        {"tier": "C", "before": 20, "after": 25, "changed": True},
    ]


def test_tier_movement_matrix(scoped, versions, accounts):
    left, right = versions

    movement = icp_versions_diff(tenant=scoped, left=left, right=right)["accounts"]

    matrix = {row["tier"]: row["counts"] for row in movement["matrix"]}
    assert matrix["A"] == {"A": 1, "B": 1, "C": 0, "D": 0}
    assert matrix["B"] == {"A": 0, "B": 1, "C": 0, "D": 0}
    assert matrix["C"] == {"A": 1, "B": 0, "C": 0, "D": 1}
    assert matrix["D"] == {"A": 0, "B": 1, "C": 0, "D": 1}
    assert [row["total"] for row in movement["matrix"]] == [2, 1, 2, 2]
    assert movement["after_totals"] == {"A": 2, "B": 3, "C": 0, "D": 2}
    assert movement["accounts"] == 7
    assert movement["up"] == 2
    assert movement["down"] == 2
    assert movement["unchanged"] == 3
    assert movement["score_changed"] == 5


def test_tier_movement_sample_order(scoped, versions, accounts):
    left, right = versions

    sample = icp_versions_diff(tenant=scoped, left=left, right=right)["accounts"]["sample"]

    assert [row["name"] for row in sample] == ["a3", "a4", "a7", "a5", "a2"]
    assert sample[0] == {
        "id": accounts["a3"].pk,
        "name": "a3",
        "score_before": 30,
        "score_after": 100,
        "tier_before": "C",
        "tier_after": "A",
    }


@pytest.fixture
def reach(scoped, accounts):
    partners = {name: PartnerFactory(tenant=scoped, name=name) for name in ("P1", "P2", "P3")}
    domains = {
        "P1": ["a3.com", "a5.com", "a6.com", "unknown.io"],
        "P2": ["a1.com", "a7.com"],
        "P3": ["a5.com"],
    }
    for name, entries in domains.items():
        reach_replace(partner=partners[name], entries=[(d, "") for d in entries], source="test")
    return partners


def test_partner_overlap_changes(scoped, versions, reach):
    left, right = versions

    partners = icp_versions_diff(tenant=scoped, left=left, right=right)["partners"]

    # Open targets (tier A or B, not won) are a2 and a7 before, and a2, a3, a4 and a7 after.
    assert partners["target_count_before"] == 2
    assert partners["target_count_after"] == 4
    assert partners["partners"] == 3
    # P3 reaches only a5, off-profile on both sides, so it does not change.
    assert partners["changed"] == 2
    assert [row["name"] for row in partners["top"]] == ["P1", "P2"]
    first, second = partners["top"]
    # P1 after: 60 × 1/3 + 40 × min(1, (1/4) / 0.25) = 20 + 40.
    assert (first["score_before"], first["score_after"], first["change"]) == (0, 60, 60)
    assert first["reach_count"] == 4
    assert first["matched_count"] == 3
    assert first["after"]["on_profile_count"] == 1
    assert first["after"]["on_profile_share"] == Decimal("0.3333")
    assert first["after"]["target_coverage"] == Decimal("0.2500")
    # P2 keeps 100 points, but its coverage of open targets halves.
    assert (second["score_before"], second["score_after"], second["change"]) == (100, 100, 0)
    assert second["before"]["target_coverage"] == Decimal("0.5000")
    assert second["after"]["target_coverage"] == Decimal("0.2500")


def test_partner_before_matches_refresh(scoped, versions, reach):
    left, right = versions
    accounts_rescore(tenant=scoped)
    partner_scores_refresh(tenant=scoped)

    top = icp_versions_diff(tenant=scoped, left=left, right=right)["partners"]["top"]

    for row in top:
        stored = PartnerScore.objects.get(partner_id=row["id"])
        assert row["score_before"] == stored.overlap_score
        assert row["before"]["on_profile_share"] == stored.on_profile_share
        assert row["before"]["target_coverage"] == stored.target_coverage
        assert row["before"]["target_count"] == stored.target_count


def test_identical_versions_unchanged(scoped, versions, reach):
    left, _ = versions

    diff = icp_versions_diff(tenant=scoped, left=left, right=left)

    assert diff["same_rules"] is True
    assert {row["status"] for row in diff["criteria"]} == {"unchanged"}
    assert all(row["changes"] == [] for row in diff["criteria"])
    assert not any(row["changed"] for row in diff["cutoffs"])
    movement = diff["accounts"]
    assert movement["unchanged"] == 7
    assert (movement["up"], movement["down"], movement["score_changed"]) == (0, 0, 0)
    for row in movement["matrix"]:
        off_diagonal = [count for tier, count in row["counts"].items() if tier != row["tier"]]
        assert off_diagonal == [0, 0, 0]
    assert movement["sample"] == []
    assert diff["partners"]["changed"] == 0
    assert diff["partners"]["top"] == []


def test_diff_without_accounts(scoped, versions):
    left, right = versions

    diff = icp_versions_diff(tenant=scoped, left=left, right=right)

    assert diff["accounts"]["accounts"] == 0
    assert diff["accounts"]["sample"] == []
    assert diff["partners"]["top"] == []


def test_diff_reads_triggers_of_either_version(scoped, versions):
    left, _ = versions
    today = scoped.today()
    recent = (today - datetime.timedelta(days=10)).isoformat()
    stale = (today - datetime.timedelta(days=400)).isoformat()
    trigger = {
        "key": "funding",
        "label": "Funding in the last 90 days",
        "kind": "trigger",
        "field": "triggers",
        "trigger": "funding",
        "within_days": 90,
        "weight": 100,
    }
    right = version_create(scoped, 3, [trigger], {"A": 75, "B": 50, "C": 25})
    AccountFactory(tenant=scoped, name="fresh", industry="retail", employees=10,
                   triggers={"Funding": recent})  # fmt: skip
    AccountFactory(tenant=scoped, name="stale", industry="retail", employees=10,
                   triggers={"funding": stale})  # fmt: skip

    movement = icp_versions_diff(tenant=scoped, left=left, right=right)["accounts"]

    assert movement["matrix"][3]["counts"] == {"A": 1, "B": 0, "C": 0, "D": 1}
    assert [row["name"] for row in movement["sample"]] == ["fresh"]


def test_diff_rejects_other_tenants_version(scoped, versions, other_tenant):
    left, _ = versions
    foreign = version_create(other_tenant, 1, LEFT_CRITERIA, LEFT_CUTOFFS)

    with pytest.raises(NotFound) as error:
        icp_versions_diff(tenant=scoped, left=left, right=foreign)

    assert error.value.field == "right"
    assert error.value.value == foreign.pk
    with tenant_scope(other_tenant), pytest.raises(NotFound):
        icp_versions_diff(tenant=other_tenant, left=left, right=foreign)


def test_partner_unmatched_reach_scored_under_both(scoped, versions, accounts):
    """Reach outside the CRM is scored on its own firmographics under each version."""
    left, right = versions
    partner = PartnerFactory(tenant=scoped, name="Outside")
    # Fintech in the US: 30 C under the left version, 100 A under the right one.
    ReachEntry.objects.create(
        tenant=scoped, partner=partner, domain="new-fintech.com", industry="fintech",
        employees=500, country="US",
    )  # fmt: skip
    ReachEntry.objects.create(tenant=scoped, partner=partner, domain="no-data.com")
    accounts_rescore(tenant=scoped)
    partner_scores_refresh(tenant=scoped)

    top = icp_versions_diff(tenant=scoped, left=left, right=right)["partners"]["top"]

    row = next(row for row in top if row["name"] == "Outside")
    assert (row["score_before"], row["score_after"]) == (0, 60)
    assert (row["before"]["on_profile_count"], row["after"]["on_profile_count"]) == (0, 1)
    assert row["after"]["on_profile_share"] == Decimal("1.0000")
    assert row["after"]["target_overlap_count"] == 0
    stored = PartnerScore.objects.get(partner=partner)
    assert row["score_before"] == stored.overlap_score
    assert row["before"]["on_profile_share"] == stored.on_profile_share
