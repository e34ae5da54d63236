"""The bulk rescore path: the COPY loader, only-changed writes, chunks, supersede, reruns."""

from __future__ import annotations

import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.db import connection

from crm.models import Account, Deal
from icp import rescoring
from icp.frames import deal_sizes
from icp.models import IcpVersion
from icp.rescoring import account_chunks, accounts_rescore_all, fit_write
from icp.scoring import (
    accounts_frame,
    criteria_need_deal_size,
    criterion_column,
    frame_trigger_names,
    score_frame,
)
from icp.services import icp_version_create
from jobs.models import Job
from jobs.services import job_create, job_start
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory
from tests.icp.test_services import CRITERIA, CUTOFFS, fits

TODAY = datetime.datetime.now(datetime.UTC).date()


def days_ago(days: int) -> str:
    return (TODAY - datetime.timedelta(days=days)).isoformat()


# Accounts chosen to hit every value rule of accounts_frame: blanks and whitespace,
# odd case, missing numbers, tech stacks as lists, strings and odd items, trigger
# keys that need normalising, unparsable dates, and deals of every stage.
VARIED_ACCOUNTS = [
    {"industry": "software", "country": "US", "employees": 500, "tech_stack": ["salesforce"]},
    {"industry": " Software ", "country": "us", "employees": 99, "tech_stack": [" HubSpot "]},
    {"industry": "SOFTWARE", "country": "de", "employees": None, "tech_stack": []},
    {"industry": "", "country": "", "employees": 0, "tech_stack": ["Salesforce", "salesforce"]},
    {"industry": "   ", "region": "\tCA\n", "employees": 1000, "tech_stack": ["a|b", "c"]},
    {"industry": "\u00a0software\u00a0", "region": "ny", "tech_stack": "Salesforce; HubSpot, x"},
    {"industry": "retail", "country": "RU", "tech_stack": ["Snowflake", "HUBSPOT", "looker"]},
    {"industry": "Retail", "country": "IR", "tech_stack": ["Straße", " "]},
    {"industry": "medical", "tech_stack": ["salesforce", "hubspot", "snowflake"]},
    {"industry": "finance", "tech_stack": ["  salesforce  ", "SNOWFLAKE"]},
    {"industry": "software", "tech_stack": ["sales force"], "annual_revenue": Decimal("0.10")},
    {"industry": "software", "annual_revenue": Decimal("12345678901234.99")},
    {"industry": "software", "annual_revenue": Decimal("1000000.00"), "budget": Decimal("0.01")},
    {"industry": "software", "budget": Decimal("49999.99"), "year_established": 1999},
    {"industry": "software", "budget": Decimal("50000.00"), "year_established": 2000},
    {"triggers": {"funding": days_ago(10)}},
    {"triggers": {"funding": days_ago(180)}},
    {"triggers": {"funding": days_ago(181)}},
    {"triggers": {"funding": days_ago(-3)}},
    {"triggers": {"Funding ": days_ago(5)}},
    {"triggers": {"funding": days_ago(400), " FUNDING": days_ago(2)}},
    {"triggers": {"funding": "not a date"}},
    {"triggers": {"new cto": days_ago(20), "funding": days_ago(30)}},
    {"triggers": {"New_CTO": days_ago(200)}},
    {"triggers": {"hiring": days_ago(1)}},
    {"triggers": {"funding": f"{days_ago(15)}T10:00:00"}},
    {"deals": [("open", "30000.00"), ("lost", "90000.00")]},
    {"deals": [("won", "19999.99"), ("won", "20000.00")]},
    {"deals": [("lost", "50000.00")]},
    {"deals": [("open", "0.00")]},
    {},
]

CRITERIA_SETS = {
    "every kind": [
        {
            "key": "industry",
            "kind": "category",
            "field": "industry",
            "values": ["Software", "medical"],
            "weight": 30,
        },
        {
            "key": "size",
            "kind": "range",
            "field": "employees",
            "min": 100,
            "max": 1000,
            "weight": 20,
        },
        {
            "key": "stack",
            "kind": "tech_stack",
            "field": "tech_stack",
            "values": ["salesforce", "hubspot", "snowflake"],
            "match": "at_least",
            "count": 2,
            "weight": 20,
        },
        {
            "key": "funding",
            "kind": "trigger",
            "trigger": "funding",
            "within_days": 180,
            "weight": 15,
        },
        {
            "key": "deals",
            "kind": "willingness_to_pay",
            "field": "deal_size",
            "min": 20000,
            "max": None,
            "weight": 15,
        },
        {
            "key": "sanctioned",
            "kind": "category",
            "field": "country",
            "values": ["RU", "ir"],
            "knockout": True,
        },
    ],
    "negated and knock-out": [
        {
            "key": "not_us",
            "kind": "category",
            "field": "country",
            "values": ["us"],
            "negate": True,
            "weight": 10,
        },
        {
            "key": "no_stack",
            "kind": "tech_stack",
            "field": "tech_stack",
            "values": ["salesforce", "hubspot"],
            "match": "all",
            "negate": True,
            "weight": 10,
        },
        {
            "key": "stale_cto",
            "kind": "trigger",
            "trigger": "New CTO",
            "within_days": 90,
            "knockout": True,
        },
        {"key": "old", "kind": "range", "field": "year_established", "max": 2000, "weight": 5},
        {
            "key": "budget",
            "kind": "willingness_to_pay",
            "field": "budget",
            "min": 50000,
            "max": None,
            "negate": True,
            "weight": 5,
        },
        {
            "key": "revenue",
            "kind": "range",
            "field": "annual_revenue",
            "min": 0.1,
            "max": 1e13,
            "weight": 5,
        },
        {"key": "region", "kind": "category", "field": "region", "values": ["CA"], "weight": 5},
    ],
    "pipe and non-ASCII": [
        {
            "key": "pipe",
            "kind": "tech_stack",
            "field": "tech_stack",
            "values": ["a|b", "strasse", "sales force"],
            "match": "any",
            "weight": 10,
        },
        {"key": "hiring", "kind": "trigger", "trigger": "hiring", "within_days": 7, "weight": 10},
    ],
}


@pytest.fixture
def four_accounts(tenant):
    """Four accounts that score 100 (A), 60 (B), 40 (C) and 0 (D) against CRITERIA."""
    with tenant_scope(tenant):
        return [
            AccountFactory(tenant=tenant, industry="software", employees=500),
            AccountFactory(tenant=tenant, industry="Software", employees=5000),
            AccountFactory(tenant=tenant, industry="retail", employees=500),
            AccountFactory(tenant=tenant, industry="retail", employees=None),
        ]


@pytest.fixture
def varied_accounts(tenant, other_tenant):
    with tenant_scope(other_tenant):
        AccountFactory(tenant=other_tenant, industry="software", tech_stack=["salesforce"])
    created = []
    with tenant_scope(tenant):
        for number, spec in enumerate(VARIED_ACCOUNTS):
            values = {
                "industry": "",
                "country": "",
                "employees": None,
                "annual_revenue": None,
                **{key: value for key, value in spec.items() if key != "deals"},
            }
            account = AccountFactory(tenant=tenant, **values)
            for position, (stage, amount) in enumerate(spec.get("deals", [])):
                DealFactory(
                    tenant=tenant,
                    external_id=f"varied-{number}-{position}",
                    account=account,
                    stage=stage,
                    amount=Decimal(amount),
                )
            created.append(account)
    return created


def reference_frame(tenant, criteria) -> pd.DataFrame:
    """Build the frame the ORM way, as account_fit_explain and accounts_frame do."""
    with tenant_scope(tenant):
        rows = list(Account.objects.order_by("pk").values())
    if criteria_need_deal_size(criteria):
        sizes = deal_sizes(row["id"] for row in rows)
        for row in rows:
            row["deal_size"] = sizes.get(row["id"])
    return accounts_frame(rows, trigger_names=frame_trigger_names(criteria))


def loaded_frame(tenant, criteria) -> pd.DataFrame:
    frames = list(account_chunks(tenant_id=tenant.pk, criteria=criteria))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("name", list(CRITERIA_SETS))
def test_copy_loader_scores_like_accounts_frame(tenant, varied_accounts, monkeypatch, name):
    monkeypatch.setattr(rescoring, "CHUNK_SIZE", 7)
    criteria = CRITERIA_SETS[name]
    # Stored the way a version stores them: trigger names normalised.
    criteria = [
        {**c, "trigger": c["trigger"].casefold().replace(" ", "_")} if c["kind"] == "trigger" else c
        for c in criteria
    ]

    expected = reference_frame(tenant, criteria)
    loaded = loaded_frame(tenant, criteria)

    assert loaded["id"].tolist() == expected["id"].tolist()
    as_of = tenant.today()
    want = score_frame(expected, criteria, CUTOFFS, as_of=as_of)
    got = score_frame(loaded, criteria, CUTOFFS, as_of=as_of)
    assert got["score"].tolist() == want["score"].tolist()
    assert got["tier"].tolist() == want["tier"].tolist()
    assert got["knocked_out"].tolist() == want["knocked_out"].tolist()
    assert len(set(want["score"])) >= 2, "the accounts should spread over several scores"


@pytest.mark.parametrize("name", list(CRITERIA_SETS))
def test_copy_loader_columns_match_accounts_frame(tenant, varied_accounts, name):
    criteria = [
        {**c, "trigger": c["trigger"].casefold().replace(" ", "_")} if c["kind"] == "trigger" else c
        for c in CRITERIA_SETS[name]
    ]
    expected = reference_frame(tenant, criteria)
    loaded = loaded_frame(tenant, criteria)

    for column in sorted({criterion_column(c) for c in criteria}):
        if column == "tech_stack":
            # The cheap path may keep the stored order of items: compare them as sets.
            got = [set(str(v).split("|")) - {""} if pd.notna(v) else None for v in loaded[column]]
            want = [
                set(str(v).split("|")) - {""} if pd.notna(v) else None for v in expected[column]
            ]
            assert got == want, column
        elif column.startswith("trigger:"):
            pd.testing.assert_series_equal(
                loaded[column].astype("datetime64[ns]"),
                expected[column].astype("datetime64[ns]"),
                check_names=False,
            )
        else:
            pd.testing.assert_series_equal(
                loaded[column], expected[column], check_names=False, check_dtype=False
            )


def test_copy_loader_reads_current_fit(tenant, four_accounts):
    version = icp_version_create(tenant=tenant, name="v1", criteria=CRITERIA, tier_cutoffs=CUTOFFS)
    Account.all_tenants.filter(pk=four_accounts[0].pk).update(
        fit_score=77, fit_tier="B", fit_version=version
    )

    frame = loaded_frame(tenant, CRITERIA)

    assert frame.loc[0, ["current_score", "current_tier", "current_version"]].tolist() == [
        77.0,
        "B",
        float(version.pk),
    ]
    assert frame.loc[1, ["current_score", "current_version"]].isna().all()
    assert pd.isna(frame.loc[1, "current_tier"])


def test_copy_loader_by_ids_skips_other_tenant(tenant, other_tenant, four_accounts):
    with tenant_scope(other_tenant):
        stranger = AccountFactory(tenant=other_tenant)

    frames = list(
        account_chunks(
            tenant_id=tenant.pk,
            criteria=CRITERIA,
            account_ids=[stranger.pk, four_accounts[1].pk],
        )
    )

    assert [frame["id"].tolist() for frame in frames] == [[four_accounts[1].pk]]


def test_copy_loader_without_accounts(tenant):
    assert list(account_chunks(tenant_id=tenant.pk, criteria=CRITERIA)) == []


def active_version(tenant, criteria=CRITERIA, name="v1") -> IcpVersion:
    version = icp_version_create(tenant=tenant, name=name, criteria=criteria, tier_cutoffs=CUTOFFS)
    IcpVersion.all_tenants.filter(tenant=tenant, status=IcpVersion.Status.ACTIVE).update(
        status=IcpVersion.Status.RETIRED
    )
    IcpVersion.all_tenants.filter(pk=version.pk).update(status=IcpVersion.Status.ACTIVE)
    version.refresh_from_db()
    return version


def row_versions(accounts) -> dict[int, str]:
    """Return each account's xmin: it changes whenever the row is written."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, xmin::text FROM crm_account WHERE id = ANY(%s)",
            [[account.pk for account in accounts]],
        )
        return dict(cursor.fetchall())


def test_rescore_all_writes_every_new_fit(tenant, four_accounts):
    version = active_version(tenant)

    result = accounts_rescore_all(tenant=tenant, version=version)

    assert (result.scanned, result.changed, result.superseded) == (4, 4, False)
    assert fits(four_accounts) == [
        (100, "A", version.pk),
        (60, "B", version.pk),
        (40, "C", version.pk),
        (0, "D", version.pk),
    ]


def test_rescore_all_writes_only_changed_rows(tenant, four_accounts):
    version = active_version(tenant)
    accounts_rescore_all(tenant=tenant, version=version)
    Account.all_tenants.filter(pk=four_accounts[2].pk).update(industry="software")
    before = row_versions(four_accounts)

    result = accounts_rescore_all(tenant=tenant, version=version)

    after = row_versions(four_accounts)
    assert (result.scanned, result.changed) == (4, 1)
    assert [after[a.pk] == before[a.pk] for a in four_accounts] == [True, True, False, True]
    assert fits(four_accounts)[2] == (100, "A", version.pk)


def test_rescore_all_rewrites_fit_version(tenant, four_accounts):
    first = active_version(tenant)
    accounts_rescore_all(tenant=tenant, version=first)
    # Same criteria: every score and tier stays, but each fit must name the new version.
    second = active_version(tenant, name="v2")

    result = accounts_rescore_all(tenant=tenant, version=second)

    assert result.changed == 4
    assert {fit[2] for fit in fits(four_accounts)} == {second.pk}


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4, 5])
def test_rescore_all_chunk_boundaries(tenant, four_accounts, monkeypatch, chunk_size):
    monkeypatch.setattr(rescoring, "CHUNK_SIZE", chunk_size)
    version = active_version(tenant)
    job = job_create(tenant=tenant, kind=Job.Kind.ICP_RESCORE)
    job_start(job_id=job.pk, tenant_id=tenant.pk)
    seen = []
    original = rescoring.score_frame

    def recording_score_frame(frame, *args, **kwargs):
        seen.append(frame["id"].tolist())
        return original(frame, *args, **kwargs)

    monkeypatch.setattr(rescoring, "score_frame", recording_score_frame)

    result = accounts_rescore_all(tenant=tenant, version=version, job_id=job.pk)

    ids = [account.pk for account in four_accounts]
    assert [pk for chunk in seen for pk in chunk] == ids
    assert all(len(chunk) <= chunk_size for chunk in seen)
    assert (result.scanned, result.changed) == (4, 4)
    job.refresh_from_db()
    assert (job.done, job.total) == (4, 4)
    assert job.stage == "Scoring accounts 4 of 4"
    assert [fit[1] for fit in fits(four_accounts)] == ["A", "B", "C", "D"]


def test_rescore_all_stops_when_superseded(tenant, four_accounts, monkeypatch):
    monkeypatch.setattr(rescoring, "CHUNK_SIZE", 2)
    first = active_version(tenant)
    job = job_create(tenant=tenant, kind=Job.Kind.ICP_RESCORE)
    job_start(job_id=job.pk, tenant_id=tenant.pk)
    original = rescoring.score_frame
    calls = []

    def score_then_activate_newer(frame, *args, **kwargs):
        calls.append(len(frame))
        if len(calls) == 2:
            # A newer activation commits while the second chunk is being scored.
            active_version(tenant, name="v2")
        return original(frame, *args, **kwargs)

    monkeypatch.setattr(rescoring, "score_frame", score_then_activate_newer)

    result = accounts_rescore_all(tenant=tenant, version=first, job_id=job.pk)

    assert result.superseded is True
    assert (result.scanned, result.changed) == (2, 2)
    assert [fit[2] for fit in fits(four_accounts)] == [first.pk, first.pk, None, None]
    job.refresh_from_db()
    assert job.status == Job.Status.SUPERSEDED
    assert "no longer active" in job.message


def test_rescore_all_rerun_after_crash_finishes(tenant, four_accounts, monkeypatch):
    monkeypatch.setattr(rescoring, "CHUNK_SIZE", 2)
    version = active_version(tenant)
    original = rescoring.score_frame
    calls = []

    def crash_on_second_chunk(frame, *args, **kwargs):
        calls.append(len(frame))
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return original(frame, *args, **kwargs)

    monkeypatch.setattr(rescoring, "score_frame", crash_on_second_chunk)
    with pytest.raises(RuntimeError, match="worker killed"):
        accounts_rescore_all(tenant=tenant, version=version)
    assert [fit[2] for fit in fits(four_accounts)] == [version.pk, version.pk, None, None]
    monkeypatch.setattr(rescoring, "score_frame", original)

    rerun = accounts_rescore_all(tenant=tenant, version=version)
    again = accounts_rescore_all(tenant=tenant, version=version)

    assert (rerun.scanned, rerun.changed) == (4, 2)
    assert (again.scanned, again.changed) == (4, 0)
    assert [fit[1] for fit in fits(four_accounts)] == ["A", "B", "C", "D"]


def test_rescore_all_leaves_other_tenant_alone(tenant, other_tenant, four_accounts):
    with tenant_scope(other_tenant):
        stranger = AccountFactory(tenant=other_tenant, industry="software", employees=500)
        foreign = icp_version_create(
            tenant=other_tenant, name="theirs", criteria=CRITERIA, tier_cutoffs=CUTOFFS
        )
    Account.all_tenants.filter(pk=stranger.pk).update(
        fit_score=12, fit_tier="D", fit_version=foreign
    )
    before = row_versions([stranger])
    version = active_version(tenant)

    result = accounts_rescore_all(tenant=tenant, version=version)

    assert result.scanned == 4
    assert fits([stranger]) == [(12, "D", foreign.pk)]
    assert row_versions([stranger]) == before


def test_fit_write_ignores_other_tenant_ids(tenant, other_tenant, four_accounts):
    with tenant_scope(other_tenant):
        stranger = AccountFactory(tenant=other_tenant)
    version = active_version(tenant)

    written = fit_write(
        tenant_id=tenant.pk,
        version_id=version.pk,
        ids=[four_accounts[0].pk, stranger.pk],
        scores=np.array([90, 90]),
        tiers=np.array(["A", "A"]),
    )

    assert written == 1
    assert fits([stranger]) == [(None, "", None)]
    assert fits(four_accounts[:1]) == [(90, "A", version.pk)]


def test_fit_write_skips_equal_rows(tenant, four_accounts):
    version = active_version(tenant)
    ids = [account.pk for account in four_accounts[:2]]
    arguments = {
        "tenant_id": tenant.pk,
        "version_id": version.pk,
        "ids": ids,
        "scores": np.array([80, 20]),
        "tiers": np.array(["A", "D"]),
    }

    assert fit_write(**arguments) == 2
    assert fit_write(**arguments) == 0
    assert fit_write(**{**arguments, "ids": []}) == 0


def test_rescore_deal_size_from_open_and_won_deals(tenant):
    criteria = [
        {
            "key": "deals",
            "kind": "willingness_to_pay",
            "field": "deal_size",
            "min": 1000,
            "max": None,
            "weight": 1,
        }
    ]
    with tenant_scope(tenant):
        big = AccountFactory(tenant=tenant)
        lost = AccountFactory(tenant=tenant)
        DealFactory(tenant=tenant, account=big, stage=Deal.Stage.OPEN, amount=Decimal("1500"))
        DealFactory(tenant=tenant, account=lost, stage=Deal.Stage.LOST, amount=Decimal("9000"))
    version = active_version(tenant, criteria=criteria)

    accounts_rescore_all(tenant=tenant, version=version)

    assert fits([big, lost]) == [(100, "A", version.pk), (0, "D", version.pk)]
