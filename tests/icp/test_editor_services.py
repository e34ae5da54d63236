"""Draft writes: edit by hand, copy, delete and preview, against the database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from icp import drafts, services
from icp.models import IcpVersion
from icp.scoring import validate_criteria
from tenancy.errors import Conflict, DomainError
from tenancy.models import AuditEvent
from tests.factories import AccountFactory, UserFactory
from tests.icp.editor_data import CUTOFFS, EVERY_KIND

SOFTWARE = [{"key": "software", "kind": "category", "field": "industry",
             "values": ["software"], "weight": 100}]  # fmt: skip
LEARNED = [
    {
        "key": "software",
        "label": "Industry: software",
        "kind": "category",
        "field": "industry",
        "values": ["software"],
        "weight": 60,
        "support": {"deals": 30, "accounts": 12},
        "lift": {"win_rate": 1.4, "won_value": 1.8},
    },
    {
        "key": "size",
        "label": "Employees 200 or more",
        "kind": "range",
        "field": "employees",
        "min": 200,
        "max": None,
        "weight": 40,
        "support": {"deals": 25, "accounts": 10},
        "lift": {"win_rate": 1.2, "won_value": 1.1},
    },
]
LEARNED_METRICS = {"cv_auc_won": {"mean": 0.71, "std": 0.04, "folds": 5}, "coverage": {}}


def make_version(number=1, status=IcpVersion.Status.DRAFT, **values) -> IcpVersion:
    defaults = {
        "name": f"Version {number}",
        "provenance": IcpVersion.Provenance.MANUAL,
        "criteria": validate_criteria(SOFTWARE),
        "tier_cutoffs": {"A": 75, "B": 50, "C": 25},
    }
    return IcpVersion.objects.create(number=number, status=status, **{**defaults, **values})


def learned_draft(number=1) -> IcpVersion:
    return make_version(
        number,
        provenance=IcpVersion.Provenance.LEARNED,
        objective="won",
        signal=IcpVersion.Signal.STRONG,
        summary="Industry and size separate won from lost deals.",
        criteria=LEARNED,
        tier_cutoffs={"A": 80, "B": 40, "C": 20},
        metrics=LEARNED_METRICS,
    )


@pytest.fixture
def accounts(scoped):
    """Two software accounts and one retail account of the tenant."""
    return [
        AccountFactory(tenant=scoped, industry="software"),
        AccountFactory(tenant=scoped, industry="software"),
        AccountFactory(tenant=scoped, industry="retail"),
    ]


def test_services_reexport_draft_writes():
    assert services.icp_version_update is drafts.icp_version_update
    assert services.icp_version_copy is drafts.icp_version_copy
    assert services.icp_version_delete is drafts.icp_version_delete


def test_update_stores_every_kind_and_flag(scoped, accounts):
    draft = make_version()

    updated = drafts.icp_version_update(
        version=draft, name=" Every kind ", criteria=EVERY_KIND, tier_cutoffs=CUTOFFS
    )

    stored = IcpVersion.objects.get(pk=draft.pk)
    assert updated.pk == draft.pk
    assert stored.name == "Every kind"
    assert stored.criteria == validate_criteria(EVERY_KIND)
    assert stored.tier_cutoffs == CUTOFFS
    assert stored.criteria[5]["negate"] is True
    assert stored.criteria[6]["knockout"] is True
    assert stored.criteria[2]["label"] == "Modern data stack"


def test_update_recomputes_coverage(scoped, accounts):
    draft = make_version(metrics={"coverage": {"accounts": 0, "tiers": {}}})
    retail = [{"key": "retail", "kind": "category", "field": "industry",
               "values": ["retail"], "weight": 10}]  # fmt: skip

    drafts.icp_version_update(
        version=draft, name="Retail", criteria=retail, tier_cutoffs={"A": 75, "B": 50, "C": 25}
    )

    coverage = IcpVersion.objects.get(pk=draft.pk).metrics["coverage"]
    assert coverage["accounts"] == 3
    assert coverage["tiers"]["A"] == {"accounts": 1, "share": 0.3333}
    assert coverage["tiers"]["D"] == {"accounts": 2, "share": 0.6667}


def test_update_audits_before_and_after(scoped, accounts):
    actor = UserFactory(username="editor")
    draft = make_version(name="Old name")

    drafts.icp_version_update(
        version=draft, name="New name", criteria=SOFTWARE, tier_cutoffs=CUTOFFS, actor=actor
    )

    event = AuditEvent.all_tenants.get(event="icp_version.updated")
    assert event.actor == actor
    assert event.object_id == str(draft.pk)
    assert event.before["name"] == "Old name"
    assert event.after["name"] == "New name"
    assert event.before["tier_cutoffs"] == {"A": 75, "B": 50, "C": 25}
    assert event.after["tier_cutoffs"] == CUTOFFS


@pytest.mark.parametrize("status", [IcpVersion.Status.ACTIVE, IcpVersion.Status.RETIRED])
def test_update_rejects_non_draft(scoped, status):
    version = make_version(status=status, name="Live")

    with pytest.raises(Conflict) as caught:
        drafts.icp_version_update(
            version=version, name="Changed", criteria=SOFTWARE, tier_cutoffs=CUTOFFS
        )

    assert status in caught.value.message
    assert caught.value.field == "status"
    assert caught.value.value == status
    assert "copy it into a new draft" in caught.value.fix.lower()
    assert IcpVersion.objects.get(pk=version.pk).name == "Live"


def test_update_invalid_criterion_changes_nothing(scoped):
    draft = make_version(name="Before")
    bad = [{**EVERY_KIND[1], "min": 5000}]

    with pytest.raises(DomainError) as caught:
        drafts.icp_version_update(version=draft, name="After", criteria=bad, tier_cutoffs=CUTOFFS)

    assert caught.value.field == "criteria.size.min"
    assert caught.value.value == 5000
    assert "smaller than max" in caught.value.fix
    assert IcpVersion.objects.get(pk=draft.pk).name == "Before"
    assert not AuditEvent.all_tenants.filter(event="icp_version.updated").exists()


def test_update_invalid_cutoffs_names_tier(scoped):
    draft = make_version()

    with pytest.raises(DomainError) as caught:
        drafts.icp_version_update(
            version=draft, name="X", criteria=SOFTWARE, tier_cutoffs={"A": 80, "B": "50", "C": 1}
        )

    assert caught.value.field == "tier_cutoffs.B"
    assert caught.value.value == "50"


def test_update_same_content_touches_only_updated_at(scoped, accounts):
    draft = make_version()
    first = drafts.icp_version_update(
        version=draft, name="Same", criteria=EVERY_KIND, tier_cutoffs=CUTOFFS
    )
    events = AuditEvent.all_tenants.count()

    second = drafts.icp_version_update(
        version=draft, name="Same", criteria=EVERY_KIND, tier_cutoffs=CUTOFFS
    )

    assert AuditEvent.all_tenants.count() == events
    assert second.updated_at > first.updated_at
    assert second.criteria == first.criteria
    assert second.metrics == first.metrics
    assert second.name == first.name


def test_update_locks_the_row(scoped):
    draft = make_version()

    with CaptureQueriesContext(connection) as queries:
        drafts.icp_version_update(version=draft, name="Locked", criteria=SOFTWARE,
                                  tier_cutoffs=CUTOFFS)  # fmt: skip

    statements = [query["sql"] for query in queries]
    locking = [sql for sql in statements if "FOR UPDATE" in sql and "icp_icpversion" in sql]
    assert len(locking) == 1


def test_update_keeps_evidence_of_unchanged_tests(scoped):
    draft = learned_draft()
    edited = [
        {key: value for key, value in criterion.items() if key not in ("support", "lift")}
        for criterion in LEARNED
    ]
    edited[0]["weight"] = 70
    edited[1]["min"] = 500

    updated = drafts.icp_version_update(
        version=draft, name="Tuned", criteria=edited, tier_cutoffs={"A": 80, "B": 40, "C": 20}
    )

    assert updated.criteria[0]["support"] == {"deals": 30, "accounts": 12}
    assert updated.criteria[0]["weight"] == 70
    assert "support" not in updated.criteria[1]
    assert "lift" not in updated.criteria[1]


def test_update_scoring_change_clears_learned_figures(scoped):
    draft = learned_draft()
    edited = [dict(criterion) for criterion in LEARNED]
    edited[0]["weight"] = 70

    updated = drafts.icp_version_update(
        version=draft, name="Tuned", criteria=edited, tier_cutoffs={"A": 80, "B": 40, "C": 20}
    )

    assert updated.signal == ""
    assert updated.summary == ""
    assert updated.objective == ""
    assert updated.trained_from is None
    assert set(updated.metrics) == {"coverage"}


def test_update_rewrites_generated_label_of_changed_test(scoped):
    draft = make_version(criteria=validate_criteria(EVERY_KIND))
    edited = [dict(criterion) for criterion in draft.criteria]
    edited[0]["negate"] = True
    edited[2]["count"] = 3

    updated = drafts.icp_version_update(
        version=draft, name="Edited", criteria=edited, tier_cutoffs=CUTOFFS
    )

    assert updated.criteria[0]["label"] == "Not industry: software, fintech"
    assert updated.criteria[2]["label"] == "Modern data stack"
    assert updated.criteria[1]["label"] == draft.criteria[1]["label"]


def test_update_rename_keeps_learned_figures(scoped):
    draft = learned_draft()
    relabelled = [{**criterion, "label": f"{criterion['label']}!"} for criterion in LEARNED]

    updated = drafts.icp_version_update(
        version=draft, name="Renamed", criteria=relabelled, tier_cutoffs={"A": 80, "B": 40, "C": 20}
    )

    assert updated.signal == IcpVersion.Signal.STRONG
    assert updated.metrics["cv_auc_won"] == LEARNED_METRICS["cv_auc_won"]
    assert updated.criteria[0]["label"] == "Industry: software!"


@pytest.mark.parametrize("status", list(IcpVersion.Status))
def test_copy_makes_draft_from_any_status(scoped, accounts, status):
    source = learned_draft()
    IcpVersion.objects.filter(pk=source.pk).update(status=status)
    source.refresh_from_db()
    actor = UserFactory(username="copier")

    copy = drafts.icp_version_copy(version=source, actor=actor)

    assert copy.pk != source.pk
    assert copy.number == 2
    assert copy.status == IcpVersion.Status.DRAFT
    assert copy.provenance == IcpVersion.Provenance.COPIED
    assert copy.based_on_id == source.pk
    assert copy.criteria == LEARNED
    assert copy.tier_cutoffs == source.tier_cutoffs
    assert copy.signal == IcpVersion.Signal.STRONG
    assert copy.metrics["coverage"]["accounts"] == 3
    assert copy.name == "Copy of v1 Version 1"
    assert copy.created_by == actor
    event = AuditEvent.all_tenants.get(event="icp_version.copied")
    assert event.object_id == str(copy.pk)
    assert event.before["based_on_id"] == source.pk


def test_copy_takes_given_name(scoped):
    copy = drafts.icp_version_copy(version=make_version(), name="  Next quarter ")

    assert copy.name == "Next quarter"


def test_copy_rejects_too_long_name(scoped):
    with pytest.raises(DomainError) as caught:
        drafts.icp_version_copy(version=make_version(), name="x" * 201)

    assert caught.value.field == "name"
    assert IcpVersion.objects.count() == 1


def test_delete_removes_draft_and_audits(scoped):
    draft = make_version(name="Scratch")

    drafts.icp_version_delete(version=draft)

    assert not IcpVersion.objects.filter(pk=draft.pk).exists()
    event = AuditEvent.all_tenants.get(event="icp_version.deleted")
    assert event.before["name"] == "Scratch"
    assert event.object_id == str(draft.pk)


@pytest.mark.parametrize("status", [IcpVersion.Status.ACTIVE, IcpVersion.Status.RETIRED])
def test_delete_rejects_non_draft(scoped, status):
    version = make_version(status=status)

    with pytest.raises(Conflict) as caught:
        drafts.icp_version_delete(version=version)

    assert caught.value.value == status
    assert IcpVersion.objects.filter(pk=version.pk).exists()


def test_preview_counts_tiers_without_saving(scoped, accounts):
    coverage = drafts.icp_version_preview(
        tenant=scoped, criteria=SOFTWARE, tier_cutoffs={"A": 75, "B": 50, "C": 25}
    )

    assert coverage["accounts"] == 3
    assert coverage["tiers"]["A"]["accounts"] == 2
    assert coverage["tiers"]["D"]["accounts"] == 1
    assert IcpVersion.objects.count() == 0


def test_preview_rejects_invalid_criteria(scoped):
    with pytest.raises(DomainError) as caught:
        drafts.icp_version_preview(
            tenant=scoped, criteria=[{**SOFTWARE[0], "weight": -1}], tier_cutoffs=CUTOFFS
        )

    assert caught.value.field == "criteria.software.weight"
