"""partners.privacy: the effective level, the overlap counts, and rows cut to each level."""

from __future__ import annotations

import pytest

from partners import privacy
from partners.briefs import partner_brief
from tenancy.scope import tenant_scope
from tenancy.services import tenant_mapping_visibility_set
from tests.factories import AccountFactory, PartnerFactory, ReachEntryFactory
from tests.portal.data import COUNTS, overlap_world_create


@pytest.fixture
def world(tenant):
    return overlap_world_create(tenant)


def rows_at(world, level: str, **options) -> list[dict]:
    rows = privacy.reach_rows(partner=world.northwind, level=level, **options)
    return privacy.rows_present(partner=world.northwind, level=level, rows=list(rows))


@pytest.mark.parametrize(
    ("tenant_level", "partner_level", "expected"),
    [
        pytest.param("names", "", ("names", "tenant"), id="default-follows-tenant"),
        pytest.param("counts", "", ("counts", "tenant"), id="tenant-counts"),
        pytest.param("counts", "details", ("details", "partner"), id="partner-wider"),
        pytest.param("details", "counts", ("counts", "partner"), id="partner-narrower"),
    ],
)
def test_visibility_get(world, tenant_level, partner_level, expected):
    tenant_mapping_visibility_set(tenant=world.tenant, visibility=tenant_level)
    world.northwind.mapping_visibility = partner_level

    found = privacy.visibility_get(partner=world.northwind, tenant=world.tenant)

    assert (found.level, found.source) == expected
    assert found.explanation == privacy.EXPLANATIONS[expected[0]]


def test_tenant_switch_reaches_following_partner(world):
    before = privacy.visibility_get(partner=world.northwind, tenant=world.tenant)

    tenant_mapping_visibility_set(tenant=world.tenant, visibility="counts")
    world.tenant.refresh_from_db()
    after = privacy.visibility_get(partner=world.northwind, tenant=world.tenant)

    assert before.level == "names"
    assert after.level == "counts"


def test_overlap_counts(world):
    counts = privacy.overlap_counts(partner=world.northwind)

    assert counts.as_dict() == COUNTS


def test_counts_agree_with_brief(world):
    counts = privacy.overlap_counts(partner=world.northwind)
    brief = partner_brief(partner=world.northwind)

    assert counts.prospect_count == len(brief.prospects)
    assert counts.on_profile_count == brief.on_profile_count


def test_own_referral_is_prospect(world):
    with tenant_scope(world.tenant):
        world.alpha.referred_by = world.northwind
        world.alpha.save(update_fields=["referred_by"])

    counts = privacy.overlap_counts(partner=world.northwind)

    assert counts.prospect_count == 1


def test_empty_reach_counts_zero(scoped):
    partner = PartnerFactory(name="Empty Reach")

    counts = privacy.overlap_counts(partner=partner)

    assert set(counts.as_dict().values()) == {0}


def test_counts_rows_hold_upload_only(world):
    rows = rows_at(world, "counts")

    assert {key for row in rows for key in row} == {"domain", "company_name"}
    assert [row["domain"] for row in rows] == sorted(row["domain"] for row in rows)


def test_counts_query_reads_no_account(world):
    rows = privacy.reach_rows(partner=world.northwind, level="counts")

    assert "crm_account" not in str(rows.query)


def test_counts_has_no_overlap_rows(world):
    with pytest.raises(ValueError, match="counts level lists no matched accounts"):
        privacy.reach_rows(partner=world.northwind, level="counts", matched_only=True)


def test_names_rows_keys(world):
    rows = rows_at(world, "names")

    unmatched = [row for row in rows if not row["matched"]]
    matched = [row for row in rows if row["matched"]]
    assert unmatched == [
        {"domain": "unmatched-own.example", "company_name": "Own Unmatched Co", "matched": False}
    ]
    for row in matched:
        assert set(row) == set(privacy.ROW_FIELDS["names"]) | {"matched"}


def test_names_rows_without_matched_flag(world):
    rows = privacy.reach_rows(partner=world.northwind, level="names", matched_only=True)

    shown = privacy.rows_present(
        partner=world.northwind, level="names", rows=list(rows), with_matched=False
    )

    assert len(shown) == 5
    for row in shown:
        assert set(row) == set(privacy.ROW_FIELDS["names"])


def test_registered_by_other_partner_is_no_prospect(world):
    rows = {row["domain"]: row for row in rows_at(world, "details", matched_only=True)}

    epsilon = rows["epsilon.example"]
    assert epsilon["on_profile"] is True
    assert epsilon["relationship"] == "prospect"
    assert epsilon["prospect_to_bring"] is False
    assert set(epsilon) == set(privacy.ROW_FIELDS["details"]) | {"matched"}


def test_other_partners_reach_never_listed(world):
    rival_domains = {"zeta.example"}

    for level in privacy.ROW_FIELDS:
        domains = {row["domain"] for row in rows_at(world, level)}
        assert not domains & rival_domains, level


def test_details_criteria_without_active_version(world):
    with tenant_scope(world.tenant):
        world.version.status = "retired"
        world.version.save(update_fields=["status"])

    rows = rows_at(world, "details", matched_only=True)

    assert {tuple(row["criteria"]) for row in rows} == {()}


def test_brief_present_counts(world):
    brief = privacy.brief_present(brief=partner_brief(partner=world.northwind), level="counts")

    assert brief.prospects is None
    assert brief.prospect_count == 1
    assert brief.note == privacy.COUNTS_ONLY_NOTE
    with pytest.raises(ValueError, match="counts only"):
        privacy.brief_csv_rows(brief)


@pytest.mark.parametrize("level", ["names", "details"])
def test_brief_present_prospect_keys(world, level):
    brief = privacy.brief_present(brief=partner_brief(partner=world.northwind), level=level)

    assert [set(item) for item in brief.prospects] == [set(privacy.PROSPECT_FIELDS[level])]
    assert brief.note == ""
    assert privacy.brief_csv_rows(brief)[0] == privacy.BRIEF_CSV_HEADER[level]


def test_unmatched_reach_in_other_partner(world):
    with tenant_scope(world.tenant):
        ReachEntryFactory(partner=world.rival, domain="rival-only.example")

    domains = {row["domain"] for row in rows_at(world, "counts")}

    assert "rival-only.example" not in domains
    assert len(domains) == COUNTS["reach_count"]


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        pytest.param("names", ["Aardvark Late Corp", "Alpha Prospect Corp"], id="names-by-name"),
        pytest.param("details", ["Alpha Prospect Corp", "Aardvark Late Corp"], id="details-by-fit"),
    ],
)
def test_brief_prospect_order(world, level, expected):
    with tenant_scope(world.tenant):
        aardvark = AccountFactory(
            name="Aardvark Late Corp", fit_tier="B", fit_score=45, fit_version=world.version
        )
        ReachEntryFactory(partner=world.northwind, domain=aardvark.domain, account=aardvark)

    brief = privacy.brief_present(brief=partner_brief(partner=world.northwind), level=level)

    assert [item["account_name"] for item in brief.prospects] == expected
