"""ICP services against the database: learning, validation, activation, rescoring."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import TestCase
from django.utils import timezone

from crm.models import Account, Deal
from icp import rescoring
from icp.learning import InsufficientData
from icp.models import IcpVersion
from icp.services import (
    account_fit_explain,
    accounts_rescore,
    icp_learn,
    icp_version_activate,
    icp_version_create,
)
from tenancy.errors import DomainError
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory

CUTOFFS = {"A": 75, "B": 50, "C": 25}
CRITERIA = [
    {
        "key": "software",
        "field": "industry",
        "kind": "category",
        "values": ["software"],
        "weight": 60,
    },
    {"key": "size", "field": "employees", "kind": "range", "min": 100, "max": 1000, "weight": 40},
]


def create_closed_deals(tenant, *, accounts: int = 20, deals_per_account: int = 5) -> None:
    """Create accounts whose industry decides their deals: software wins 4 in 5, others 1 in 5."""
    industries = ["software", "retail", "medical", "finance"]
    with tenant_scope(tenant):
        _create_closed_deals(tenant, industries, accounts, deals_per_account)


def _create_closed_deals(tenant, industries, accounts, deals_per_account) -> None:
    for number in range(accounts):
        industry = industries[number % len(industries)]
        account = AccountFactory(
            tenant=tenant,
            industry=industry,
            employees=200 + 150 * number,
            annual_revenue=Decimal(10_000_000 + 1_000_000 * number),
        )
        wins = 4 if industry == "software" else 1
        for deal_number in range(deals_per_account):
            won = deal_number < wins
            DealFactory(
                tenant=tenant,
                account=account,
                stage=Deal.Stage.WON if won else Deal.Stage.LOST,
                amount=Decimal("1000.00") if won else Decimal("0.00"),
                close_date=datetime.date(2024, 1, 1)
                + datetime.timedelta(days=number + deal_number),
            )


@pytest.fixture
def fit_accounts(tenant):
    """Four accounts that score 100 (A), 60 (B), 40 (C) and 0 (D) against CRITERIA."""
    with tenant_scope(tenant):
        return [
            AccountFactory(tenant=tenant, industry="software", employees=500),
            AccountFactory(tenant=tenant, industry="Software", employees=5000),
            AccountFactory(tenant=tenant, industry="retail", employees=500),
            AccountFactory(tenant=tenant, industry="retail", employees=None),
        ]


def activate_and_rescore(version, actor=None) -> IcpVersion:
    """Activate `version` and run the rescore job it sends on commit (Celery is eager)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return icp_version_activate(version=version, actor=actor)


def fits(accounts) -> list[tuple]:
    rows = Account.all_tenants.filter(pk__in=[account.pk for account in accounts]).order_by("pk")
    return list(rows.values_list("fit_score", "fit_tier", "fit_version_id"))


def test_icp_learn_stores_draft(tenant, admin_user):
    create_closed_deals(tenant)
    with tenant_scope(tenant):
        AccountFactory(tenant=tenant, industry="Software Development", employees=None)

    version = icp_learn(tenant=tenant, actor=admin_user)

    assert version.number == 1
    assert version.status == IcpVersion.Status.DRAFT
    assert version.provenance == IcpVersion.Provenance.LEARNED
    assert version.objective == "won"
    assert version.signal == "strong"
    assert version.name == "Learned from 100 closed deals"
    assert version.created_by == admin_user
    assert version.trained_from == datetime.date(2024, 1, 1)
    assert version.trained_to == datetime.date(2024, 1, 24)
    assert {"key": "industry", "values": ["software"]}.items() <= version.criteria[0].items()
    assert version.metrics["counts"] == {"closed": 100, "won": 35, "lost": 65, "accounts": 20}
    assert version.metrics["coverage"]["accounts"] == 21
    assert sum(tier["accounts"] for tier in version.metrics["coverage"]["tiers"].values()) == 21
    event = AuditEvent.all_tenants.get(event="icp_version.learned")
    assert event.object_id == str(version.pk)
    assert event.after["signal"] == "strong"


def test_icp_learn_numbers_versions_per_tenant(tenant, other_tenant):
    create_closed_deals(tenant)
    create_closed_deals(other_tenant)

    first = icp_learn(tenant=tenant, name="First")
    second = icp_learn(tenant=tenant)
    other = icp_learn(tenant=other_tenant)

    assert (first.number, second.number, other.number) == (1, 2, 1)
    assert first.name == "First"
    assert other.metrics["counts"]["accounts"] == 20


def test_icp_learn_too_few_deals_stores_nothing(tenant):
    create_closed_deals(tenant, accounts=5)

    with pytest.raises(InsufficientData, match="found 25 closed"):
        icp_learn(tenant=tenant)

    assert not IcpVersion.all_tenants.exists()


def test_icp_learn_ignores_open_deals(tenant):
    create_closed_deals(tenant)
    with tenant_scope(tenant):
        DealFactory(tenant=tenant, account=AccountFactory(tenant=tenant), stage=Deal.Stage.OPEN)

    version = icp_learn(tenant=tenant)

    assert version.metrics["counts"]["closed"] == 100


def test_icp_version_create_stores_manual_draft(tenant, fit_accounts):
    version = icp_version_create(
        tenant=tenant, name=" Hand-made ", criteria=CRITERIA, tier_cutoffs=CUTOFFS
    )

    assert version.status == IcpVersion.Status.DRAFT
    assert version.provenance == IcpVersion.Provenance.MANUAL
    assert version.name == "Hand-made"
    assert version.criteria[0]["label"] == "Industry: software"
    assert version.criteria[1]["label"] == "Employees 100 to 1,000"
    tiers = version.metrics["coverage"]["tiers"]
    assert [tiers[tier]["accounts"] for tier in "ABCD"] == [1, 1, 1, 1]
    assert tiers["A"]["share"] == 0.25
    assert AuditEvent.all_tenants.filter(event="icp_version.created").count() == 1


def criterion(**changes) -> dict:
    base = {
        "key": "size",
        "field": "employees",
        "kind": "range",
        "min": 10,
        "max": 100,
        "weight": 10,
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not ...}


@pytest.mark.parametrize(
    ("criteria", "field", "message"),
    [
        pytest.param([], "criteria", "at least one criterion", id="empty"),
        pytest.param(
            [criterion(field="name")],
            "criteria.size.field",
            '"name" is not an account field',
            id="unknown-field",
        ),
        pytest.param(
            [criterion(kind="fuzzy")],
            "criteria.size.kind",
            'kind "fuzzy" is not a known kind',
            id="kind",
        ),
        pytest.param(
            [criterion(field="industry")],
            "criteria.size.field",
            "that kind 'range' can test",
            id="kind-mismatch",
        ),
        pytest.param([criterion(weight=0)], "criteria.size.weight", "earns no points", id="zero"),
        pytest.param([criterion(weight="10")], "criteria.size.weight", '"10"', id="text-weight"),
        pytest.param([criterion(weight=True)], "criteria.size.weight", "true", id="bool-weight"),
        pytest.param([criterion(min=100)], "criteria.size.min", "not below max 100", id="min-max"),
        pytest.param(
            [criterion(min=None, max=None)],
            "criteria.size.min",
            "min and max are both empty",
            id="open",
        ),
        pytest.param(
            [criterion(max="big")],
            "criteria.size.max",
            "not a finite number in range",
            id="text-bound",
        ),
        pytest.param(
            [criterion(max=float("inf"))],
            "criteria.size.max",
            "not a finite number in range",
            id="inf",
        ),
        pytest.param(
            [
                criterion(
                    key="sector", field="industry", kind="category", values=[], min=..., max=...
                )
            ],
            "criteria.sector.values",
            "non-empty list",
            id="no-values",
        ),
        pytest.param(
            [
                criterion(
                    key="sector", field="industry", kind="category", values=[" "], min=..., max=...
                )
            ],
            "criteria.sector.values",
            "is blank or not text",
            id="blank-value",
        ),
        pytest.param(
            [criterion(), criterion()],
            "criteria.size.key",
            "is used by two criteria",
            id="duplicate",
        ),
        pytest.param(
            [criterion(key="")],
            "criteria.1.key",
            "Criterion 1 is invalid: its key is missing",
            id="no-key",
        ),
        pytest.param(["size"], "criteria.1", "it is not an object", id="not-object"),
    ],
)
def test_icp_version_create_rejects_invalid_criteria(tenant, criteria, field, message):
    with pytest.raises(DomainError) as caught:
        icp_version_create(tenant=tenant, name="Bad", criteria=criteria, tier_cutoffs=CUTOFFS)

    assert caught.value.field == field
    assert message in caught.value.message
    assert caught.value.fix
    assert not IcpVersion.all_tenants.exists()


def test_icp_version_create_error_message(tenant):
    with pytest.raises(DomainError) as caught:
        icp_version_create(
            tenant=tenant, name="Bad", criteria=[criterion(weight=0)], tier_cutoffs=CUTOFFS
        )

    assert caught.value.message == "Criterion 'size' is invalid: weight 0 earns no points."
    assert caught.value.value == 0
    assert caught.value.fix == "Give a positive weight, or make the criterion a knock-out."


@pytest.mark.parametrize(
    ("cutoffs", "field"),
    [
        pytest.param({"A": 75, "B": 50}, "tier_cutoffs", id="missing-c"),
        pytest.param({"A": 75, "B": 50, "C": 25.5}, "tier_cutoffs.C", id="float"),
        pytest.param({"A": 50, "B": 50, "C": 25}, "tier_cutoffs", id="not-decreasing"),
        pytest.param({"A": 101, "B": 50, "C": 25}, "tier_cutoffs", id="above-100"),
        pytest.param({"A": 75, "B": 50, "C": -1}, "tier_cutoffs", id="negative"),
    ],
)
def test_icp_version_create_rejects_invalid_cutoffs(tenant, cutoffs, field):
    with pytest.raises(DomainError) as caught:
        icp_version_create(tenant=tenant, name="Bad", criteria=CRITERIA, tier_cutoffs=cutoffs)

    assert caught.value.field == field


@pytest.mark.parametrize("name", [" ", None, "x" * 201])
def test_icp_version_create_rejects_bad_name(tenant, name):
    with pytest.raises(DomainError, match="must have 1 to 200 characters") as caught:
        icp_version_create(tenant=tenant, name=name, criteria=CRITERIA, tier_cutoffs=CUTOFFS)

    assert caught.value.field == "name"


def test_activate_rescores_accounts(tenant, fit_accounts, admin_user):
    version = icp_version_create(tenant=tenant, name="v1", criteria=CRITERIA, tier_cutoffs=CUTOFFS)

    active = activate_and_rescore(version, actor=admin_user)

    assert active.status == IcpVersion.Status.ACTIVE
    assert active.activated_by == admin_user
    assert active.activated_at is not None
    assert active.review_due_on == timezone.localdate() + datetime.timedelta(days=90)
    assert fits(fit_accounts) == [
        (100, "A", version.pk),
        (60, "B", version.pk),
        (40, "C", version.pk),
        (0, "D", version.pk),
    ]


def test_activate_retires_previous_version(tenant, fit_accounts):
    first = icp_version_create(tenant=tenant, name="v1", criteria=CRITERIA, tier_cutoffs=CUTOFFS)
    icp_version_activate(version=first)
    retail = [
        {
            "key": "retail",
            "field": "industry",
            "kind": "category",
            "values": ["retail"],
            "weight": 1,
        }
    ]
    second = icp_version_create(tenant=tenant, name="v2", criteria=retail, tier_cutoffs=CUTOFFS)

    activate_and_rescore(second)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == IcpVersion.Status.RETIRED
    assert second.status == IcpVersion.Status.ACTIVE
    assert fits(fit_accounts) == [
        (0, "D", second.pk),
        (0, "D", second.pk),
        (100, "A", second.pk),
        (100, "A", second.pk),
    ]
    event = AuditEvent.all_tenants.filter(event="icp_version.activated").latest("pk")
    assert event.object_id == str(second.pk)
    assert event.before == {"status": "draft", "active_version_id": first.pk}
    assert event.after["retired_version_id"] == first.pk
    assert event.after["status"] == "active"


def test_activate_active_version_changes_nothing(tenant, fit_accounts):
    version = icp_version_create(tenant=tenant, name="v1", criteria=CRITERIA, tier_cutoffs=CUTOFFS)
    icp_version_activate(version=version)

    again = icp_version_activate(version=version)

    assert again.status == IcpVersion.Status.ACTIVE
    assert AuditEvent.all_tenants.filter(event="icp_version.activated").count() == 1


def test_rescore_without_active_version_returns_zero(tenant, fit_accounts):
    icp_version_create(tenant=tenant, name="draft", criteria=CRITERIA, tier_cutoffs=CUTOFFS)

    assert accounts_rescore(tenant=tenant) == 0
    assert fits(fit_accounts)[0] == (None, "", None)


def test_rescore_given_accounts_only(tenant, fit_accounts):
    version = icp_version_create(tenant=tenant, name="v1", criteria=CRITERIA, tier_cutoffs=CUTOFFS)
    icp_version_activate(version=version)
    Account.all_tenants.update(fit_score=None, fit_tier="", fit_version=None)

    written = accounts_rescore(tenant=tenant, account_ids=[fit_accounts[0].pk, fit_accounts[2].pk])

    assert written == 2
    assert fits(fit_accounts) == [
        (100, "A", version.pk),
        (None, "", None),
        (40, "C", version.pk),
        (None, "", None),
    ]


def test_rescore_in_chunks(tenant, fit_accounts, monkeypatch):
    monkeypatch.setattr(rescoring, "CHUNK_SIZE", 3)
    version = icp_version_create(tenant=tenant, name="v1", criteria=CRITERIA, tier_cutoffs=CUTOFFS)
    icp_version_activate(version=version)

    assert accounts_rescore(tenant=tenant) == 4
    assert [fit[1] for fit in fits(fit_accounts)] == ["A", "B", "C", "D"]


def test_rescore_leaves_other_tenant_alone(tenant, other_tenant, fit_accounts):
    with tenant_scope(other_tenant):
        stranger = AccountFactory(tenant=other_tenant, industry="software", employees=500)
    version = icp_version_create(tenant=tenant, name="v1", criteria=CRITERIA, tier_cutoffs=CUTOFFS)

    icp_version_activate(version=version)
    written = accounts_rescore(tenant=tenant, account_ids=[stranger.pk, fit_accounts[0].pk])

    assert written == 1
    assert fits([stranger]) == [(None, "", None)]


def test_account_fit_explain_uses_active_version(tenant, fit_accounts):
    version = icp_version_create(tenant=tenant, name="v1", criteria=CRITERIA, tier_cutoffs=CUTOFFS)
    icp_version_activate(version=version)

    result = account_fit_explain(account=fit_accounts[3])

    assert result["score"] == 0
    assert result["tier"] == "D"
    assert result["version"] == {"id": version.pk, "number": 1, "name": "v1", "status": "active"}
    assert [(row["key"], row["matched"], row["missing"]) for row in result["breakdown"]] == [
        ("software", False, False),
        ("size", False, True),
    ]


def test_account_fit_explain_falls_back_to_fit_version(tenant, fit_accounts):
    version = icp_version_create(tenant=tenant, name="v1", criteria=CRITERIA, tier_cutoffs=CUTOFFS)
    activate_and_rescore(version)
    IcpVersion.all_tenants.filter(pk=version.pk).update(status=IcpVersion.Status.RETIRED)
    account = Account.all_tenants.get(pk=fit_accounts[0].pk)

    result = account_fit_explain(account=account)

    assert result["score"] == 100
    assert result["version"]["status"] == "retired"


def test_account_fit_explain_without_version(tenant, fit_accounts):
    result = account_fit_explain(account=fit_accounts[0])

    assert result == {
        "score": None,
        "tier": "",
        "total_weight": 0,
        "earned_points": 0,
        "knocked_out_by": [],
        "missing": [],
        "breakdown": [],
        "version": None,
    }


@pytest.mark.django_db(transaction=True)
def test_rescore_commits_chunk_by_chunk(tenant, fit_accounts, monkeypatch):
    # Outside a test transaction each chunk commits, which drops the temporary table,
    # so the next chunk must create it again. The activation's job runs on commit.
    monkeypatch.setattr(rescoring, "CHUNK_SIZE", 3)
    version = icp_version_create(tenant=tenant, name="v1", criteria=CRITERIA, tier_cutoffs=CUTOFFS)
    icp_version_activate(version=version)
    assert [fit[1] for fit in fits(fit_accounts)] == ["A", "B", "C", "D"]
    Account.all_tenants.filter(pk__in=[fit_accounts[0].pk, fit_accounts[3].pk]).update(
        fit_score=None, fit_tier="", fit_version=None
    )

    assert accounts_rescore(tenant=tenant) == 2
    assert [fit[1] for fit in fits(fit_accounts)] == ["A", "B", "C", "D"]


COUNTRY_CODES = {
    "United States": "US",
    "Kenya": "KE",
    "Philipines": "PH",
    "Japan": "JP",
    "Italy": "IT",
    "Norway": "NO",
    "Korea": "KR",
    "Jordan": "JO",
    "Brazil": "BR",
    "Germany": "DE",
    "Panama": "PA",
    "Belgium": "BE",
    "Romania": "RO",
    "Poland": "PL",
    "China": "CN",
}


def load_real_data(tenant) -> None:
    """Insert the real data set's accounts and closed deals for `tenant`."""
    import pandas as pd

    from tests.icp.test_learning import DATA_DIR

    accounts = pd.read_csv(DATA_DIR / "accounts.csv")
    pipeline = pd.read_csv(DATA_DIR / "sales_pipeline.csv")
    created = Account.all_tenants.bulk_create(
        Account(
            tenant=tenant,
            external_id=row.account,
            name=row.account,
            industry=row.sector,
            employees=int(row.employees),
            annual_revenue=Decimal(str(row.revenue)) * 1_000_000,
            country=COUNTRY_CODES[row.office_location],
            year_established=int(row.year_established),
        )
        for row in accounts.itertuples()
    )
    ids = {account.external_id: account.pk for account in created}
    closed = pipeline[pipeline["deal_stage"].isin(["Won", "Lost"])]
    Deal.all_tenants.bulk_create(
        Deal(
            tenant=tenant,
            external_id=row.opportunity_id,
            account_id=ids[row.account],
            stage=Deal.Stage.WON if row.deal_stage == "Won" else Deal.Stage.LOST,
            amount=Decimal(int(row.close_value)),
            close_date=datetime.date.fromisoformat(row.close_date),
        )
        for row in closed.itertuples()
    )


def test_icp_learn_on_real_data(tenant):
    load_real_data(tenant)

    version = icp_learn(tenant=tenant)
    activate_and_rescore(version)

    assert version.objective == "won_value"
    assert version.metrics["cv_auc_won"]["mean"] < 0.55
    assert version.metrics["counts"] == {"closed": 6711, "won": 4238, "lost": 2473, "accounts": 85}
    assert version.trained_from == datetime.date(2017, 3, 1)
    assert version.trained_to == datetime.date(2017, 12, 31)
    assert {"employees", "annual_revenue"} & {c["field"] for c in version.criteria}
    assert version.metrics["coverage"]["accounts"] == 85
    assert Account.all_tenants.filter(tenant=tenant, fit_version=version).count() == 85
