import csv
import datetime
import io

import pytest

from crm.models import Deal
from icp.models import IcpVersion
from partners import briefs
from partners.briefs import csv_cell, icp_summary, partner_brief, partner_brief_csv
from tenancy.services import api_key_create
from tests.factories import (
    AccountFactory,
    DealFactory,
    PartnerFactory,
    ReachEntryFactory,
    registration_create,
)
from tests.web.data import CRITERIA, icp_version_create

KNOCKOUT = {
    "key": "sanctioned",
    "label": "Country: KP",
    "field": "country",
    "kind": "category",
    "values": ["KP"],
    "weight": 0,
    "knockout": True,
}


def _reach(partner, **values):
    account = AccountFactory(**values)
    ReachEntryFactory(partner=partner, domain=account.domain, account=account)
    return account


@pytest.fixture
def partner(scoped):
    return PartnerFactory(name="Northwind")


@pytest.fixture
def reach(scoped, partner):
    """One account of each brief group in the partner's reach, plus accounts left out."""
    icp_version_create(criteria=[*CRITERIA, KNOCKOUT])
    rival = PartnerFactory(name="Rival")
    accounts = {
        "beta": _reach(partner, name="Beta", fit_tier="A", fit_score=90),
        "alpha": _reach(partner, name="Alpha", fit_tier="A", fit_score=90, industry="retail"),
        "own": _reach(partner, name="Own", fit_tier="B", fit_score=50, referred_by=partner),
        "lost": _reach(partner, name="Lost only", fit_tier="B", fit_score=45),
        "customer": _reach(partner, name="Customer", fit_tier="A", fit_score=95),
        "both": _reach(partner, name="Won and open", fit_tier="A", fit_score=85),
        "pipeline": _reach(partner, name="Pipeline", fit_tier="B", fit_score=60),
        "rival": _reach(partner, name="Rival's", fit_tier="A", fit_score=99),
        "tier_c": _reach(partner, name="Tier C", fit_tier="C", fit_score=30),
        "outside": AccountFactory(name="Not in reach", fit_tier="A", fit_score=100),
    }
    registration_create(rival, accounts["rival"].domain, scoped.today())
    DealFactory(account=accounts["lost"], stage=Deal.Stage.LOST)
    DealFactory(account=accounts["customer"], stage=Deal.Stage.WON)
    DealFactory(account=accounts["both"], stage=Deal.Stage.WON)
    DealFactory(account=accounts["both"], stage=Deal.Stage.OPEN)
    DealFactory(account=accounts["pipeline"], stage=Deal.Stage.OPEN)
    ReachEntryFactory(partner=partner, domain="unmatched.example")
    return accounts


def test_brief_groups_on_profile_reach(partner, reach):
    brief = partner_brief(partner=partner)

    assert [p.name for p in brief.prospects] == ["Alpha", "Beta", "Own", "Lost only"]
    assert brief.customer_count == 2
    assert brief.open_pipeline_count == 1
    assert brief.other_partner_count == 1
    assert brief.on_profile_count == 8
    assert brief.headline == (
        "8 on-profile accounts in your reach: 4 to bring forward, 2 already customers, "
        "1 in open pipeline, 1 registered by another partner"
    )


def test_brief_prospect_fields_and_reasons(partner, reach):
    prospects = {p.name: p for p in partner_brief(partner=partner).prospects}

    beta = prospects["Beta"]
    assert beta.account_id == reach["beta"].pk
    assert beta.domain == reach["beta"].domain
    assert beta.tier == "A"
    assert beta.score == 90
    assert beta.reasons == ("Industry: software", "Employees 200 or more")
    assert prospects["Alpha"].reasons == ("Employees 200 or more",)


def test_brief_reasons_limited(partner, reach, monkeypatch):
    monkeypatch.setattr(briefs, "MAX_EXPLAINED_PROSPECTS", 1)

    brief = partner_brief(partner=partner)

    assert brief.reasons_truncated is True
    assert brief.prospects[0].reasons == ("Employees 200 or more",)
    assert all(p.reasons == () for p in brief.prospects[1:])


def test_summary_lists_points_and_knockouts(partner, reach):
    summary = partner_brief(partner=partner).summary

    assert summary.strengths == (("Industry: software", 60), ("Employees 200 or more", 40))
    assert summary.knockouts == ("Country: KP",)
    assert summary.text == (
        "We win most with: Industry: software (60 points); Employees 200 or more (40 points). "
        "We never pay for: Country: KP."
    )


def test_summary_points_are_out_of_100(scoped):
    criteria = [{**CRITERIA[0], "weight": 3}, {**CRITERIA[1], "weight": 1}]
    version = icp_version_create(criteria=criteria)

    assert icp_summary(version).strengths == (
        ("Industry: software", 75),
        ("Employees 200 or more", 25),
    )


def test_brief_without_active_version(partner, reach):
    IcpVersion.objects.update(status=IcpVersion.Status.RETIRED)

    brief = partner_brief(partner=partner)

    assert brief.summary.version is None
    assert brief.summary.text.startswith("No ICP version is active")
    assert [p.name for p in brief.prospects] == ["Alpha", "Beta", "Own", "Lost only"]
    assert all(p.reasons == () for p in brief.prospects)
    assert brief.reasons_truncated is False


def test_brief_of_partner_without_reach(partner):
    brief = partner_brief(partner=partner)

    assert brief.prospects == []
    assert brief.on_profile_count == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("Acme = good", "Acme = good"),
        (None, ""),
        (42, "42"),
    ],
)
def test_csv_cell_neutralises_formulas(value, expected):
    assert csv_cell(value) == expected


def test_brief_csv_rows(partner, reach):
    reach["beta"].name = '=HYPERLINK("http://evil.example")'
    reach["beta"].save()

    rows = list(csv.reader(io.StringIO(partner_brief_csv(partner_brief(partner=partner)))))

    assert rows[0] == ["account", "domain", "tier", "fit_score", "why_on_profile"]
    # "=" sorts before letters, so the renamed account comes first of the two at 90.
    assert rows[2] == ["Alpha", reach["alpha"].domain, "A", "90", "Employees 200 or more"]
    assert rows[1] == [
        '\'=HYPERLINK("http://evil.example")',
        reach["beta"].domain,
        "A",
        "90",
        "Industry: software; Employees 200 or more",
    ]
    assert len(rows) == 5


def test_staff_brief_api(partner, reach, client, tenant):
    _, raw_key = api_key_create(tenant=tenant, name="briefs")

    response = client.get(
        f"/api/v1/partners/{partner.pk}/brief/?limit=2",
        headers={"Authorization": f"Api-Key {raw_key}"},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["prospect_count"] == 4
    assert body["count"] == 4
    assert [row["account_name"] for row in body["results"]] == ["Alpha", "Beta"]
    assert body["results"][0]["tier"] == "A"
    assert body["customer_count"] == 2
    assert body["open_pipeline_count"] == 1
    assert body["other_partner_count"] == 1
    assert body["next"] is not None
    assert "Not in reach" not in response.content.decode()


def test_expired_rival_registration_frees_prospect(scoped, partner, reach):
    rival = PartnerFactory(name="Old rival")
    account = _reach(partner, name="Freed", fit_tier="A", fit_score=80)
    registration_create(rival, account.domain, scoped.today() - datetime.timedelta(days=400))

    brief = partner_brief(partner=partner)

    assert "Freed" in [prospect.name for prospect in brief.prospects]
