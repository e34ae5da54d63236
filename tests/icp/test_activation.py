"""Activation starts a rescore job; the job's task rescores accounts, partners and roll-ups."""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.test import TestCase

from commissions.models import LedgerEntry
from crm.models import Account, Deal
from crm.pipeline import deals_process
from icp import rescoring
from icp.models import IcpVersion
from icp.rescoring import job_subject
from icp.services import icp_version_activate, icp_version_create
from icp.tasks import rescore_after_activation_task, rescore_trigger_tenants_task
from jobs.models import Job
from jobs.selectors import job_latest
from partners.models import PartnerScore
from reporting.models import PartnerRollup
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tests.factories import (
    AccountFactory,
    CommissionPlanFactory,
    DealFactory,
    PartnerFactory,
    ReachEntryFactory,
    registration_create,
)
from tests.icp.test_services import CRITERIA, CUTOFFS, fits
from track360.celery import app as celery_app

RETAIL = [
    {"key": "retail", "field": "industry", "kind": "category", "values": ["retail"], "weight": 1}
]
TRIGGER = [
    {"key": "funding", "kind": "trigger", "trigger": "funding", "within_days": 180, "weight": 1}
]


@pytest.fixture
def eager_retries():
    """Let eager Celery run a task's retries: nested apply() calls raise while it propagates."""
    propagates = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = propagates


@pytest.fixture
def accounts(tenant):
    """Two software accounts (A under CRITERIA) and two retail ones (C and D)."""
    with tenant_scope(tenant):
        return [
            AccountFactory(tenant=tenant, industry="software", employees=500, domain="a.com"),
            AccountFactory(tenant=tenant, industry="software", employees=500, domain="b.com"),
            AccountFactory(tenant=tenant, industry="retail", employees=500, domain="c.com"),
            AccountFactory(tenant=tenant, industry="retail", employees=None, domain="d.com"),
        ]


def draft(tenant, criteria=CRITERIA, name="v1") -> IcpVersion:
    return icp_version_create(tenant=tenant, name=name, criteria=criteria, tier_cutoffs=CUTOFFS)


def rescore_job(tenant, version) -> Job | None:
    return job_latest(tenant=tenant, kind=Job.Kind.ICP_RESCORE, subject=job_subject(version.pk))


def test_activate_returns_at_once_with_queued_job(tenant, accounts, admin_user):
    version = draft(tenant)

    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        active = icp_version_activate(version=version, actor=admin_user)

    assert active.pk == version.pk
    assert active.status == IcpVersion.Status.ACTIVE
    assert len(callbacks) == 1
    job = rescore_job(tenant, version)
    assert job.status == Job.Status.QUEUED
    assert job.subject == f"icp_version:{version.pk}"
    assert job.created_by == admin_user
    # Nothing is rescored until the job runs.
    assert {fit[0] for fit in fits(accounts)} == {None}


def test_activate_then_task_rescores_everything(tenant, accounts, admin_user):
    with tenant_scope(tenant):
        partner = PartnerFactory(tenant=tenant)
        ReachEntryFactory(tenant=tenant, partner=partner, domain="a.com")
        ReachEntryFactory(tenant=tenant, partner=partner, domain="c.com")
        DealFactory(tenant=tenant, account=accounts[2], partner=partner, stage=Deal.Stage.WON)
    version = draft(tenant)

    with TestCase.captureOnCommitCallbacks(execute=True):
        icp_version_activate(version=version, actor=admin_user)

    job = rescore_job(tenant, version)
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["accounts_scanned"] == 4
    assert job.result["accounts_changed"] == 4
    assert job.result["partners"] == 1
    assert job.result["seconds"] >= 0
    assert (job.done, job.total) == (4, 4)
    assert job.percent == 100
    assert job.target_url == f"/icp/versions/{version.pk}/"
    assert "Rescored 4 accounts" in job.message
    assert [fit[1] for fit in fits(accounts)] == ["A", "A", "C", "D"]
    score = PartnerScore.all_tenants.get(partner=partner)
    assert score.icp_version_id == version.pk
    assert (score.matched_count, score.on_profile_count) == (2, 1)
    assert PartnerRollup.all_tenants.get(partner=partner).won_deals == 1


def test_activate_active_version_starts_no_job(tenant, accounts):
    version = draft(tenant)
    with TestCase.captureOnCommitCallbacks(execute=True):
        icp_version_activate(version=version)

    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        again = icp_version_activate(version=version)

    assert again.status == IcpVersion.Status.ACTIVE
    assert callbacks == []
    assert Job.all_tenants.filter(kind=Job.Kind.ICP_RESCORE).count() == 1
    assert AuditEvent.all_tenants.filter(event="icp_version.activated").count() == 1


def test_activate_audits_and_uses_tenant_review_days(tenant, accounts, admin_user):
    tenant.icp_review_days = 30
    tenant.time_zone = "Pacific/Kiritimati"
    tenant.save()
    first = draft(tenant)
    icp_version_activate(version=first)
    second = draft(tenant, criteria=RETAIL, name="v2")

    active = icp_version_activate(version=second, actor=admin_user)

    assert active.review_due_on == tenant.today() + datetime.timedelta(days=30)
    assert active.activated_by == admin_user
    first.refresh_from_db()
    assert first.status == IcpVersion.Status.RETIRED
    event = AuditEvent.all_tenants.filter(event="icp_version.activated").latest("pk")
    assert event.actor_id == admin_user.pk
    assert event.object_id == str(second.pk)
    assert event.created_at is not None
    assert event.before == {"status": "draft", "active_version_id": first.pk}
    assert event.after == {
        "status": "active",
        "retired_version_id": first.pk,
        "review_due_on": active.review_due_on.isoformat(),
    }


def test_second_activation_supersedes_first_job(tenant, accounts):
    first = draft(tenant)
    second = draft(tenant, criteria=RETAIL, name="v2")
    icp_version_activate(version=first)
    first_job = rescore_job(tenant, first)
    icp_version_activate(version=second)

    # The first job's task runs late, after the second activation.
    assert rescore_after_activation_task.delay(tenant.pk, first.pk, first_job.pk).get() is None
    rescore_after_activation_task.delay(tenant.pk, second.pk, rescore_job(tenant, second).pk)

    first_job.refresh_from_db()
    assert first_job.status == Job.Status.SUPERSEDED
    assert rescore_job(tenant, second).status == Job.Status.SUCCEEDED
    assert {fit[2] for fit in fits(accounts)} == {second.pk}


def test_task_runs_a_job_once(tenant, accounts):
    version = draft(tenant)
    with TestCase.captureOnCommitCallbacks(execute=True):
        icp_version_activate(version=version)
    job = rescore_job(tenant, version)

    assert rescore_after_activation_task.delay(tenant.pk, version.pk, job.pk).get() is None
    job.refresh_from_db()
    assert job.attempts == 1


def test_task_failure_marks_job_failed(tenant, accounts, monkeypatch):
    version = draft(tenant)
    icp_version_activate(version=version)
    job = rescore_job(tenant, version)

    def broken(**kwargs):
        raise ValueError("bad criterion")

    monkeypatch.setattr(rescoring, "accounts_rescore_all", broken)
    with pytest.raises(ValueError, match="bad criterion"):
        rescore_after_activation_task.delay(tenant.pk, version.pk, job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "Rescoring failed with an unexpected error: ValueError('bad criterion')" in job.message
    assert "manage.py rescore_icp --tenant acme" in job.message
    assert job.finished_at is not None


def test_task_retries_lost_connection(tenant, accounts, monkeypatch, eager_retries):
    version = draft(tenant)
    icp_version_activate(version=version)
    job = rescore_job(tenant, version)
    original = rescoring.accounts_rescore_all
    calls = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return original(**kwargs)

    monkeypatch.setattr(rescoring, "accounts_rescore_all", flaky)

    rescore_after_activation_task.apply(args=(tenant.pk, version.pk, job.pk))

    job.refresh_from_db()
    assert len(calls) == 2
    assert job.status == Job.Status.SUCCEEDED
    assert job.attempts == 2
    assert [fit[1] for fit in fits(accounts)] == ["A", "A", "C", "D"]


def test_task_gives_up_after_retries(tenant, accounts, monkeypatch, eager_retries):
    version = draft(tenant)
    icp_version_activate(version=version)
    job = rescore_job(tenant, version)

    def down(**kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(rescoring, "accounts_rescore_all", down)

    result = rescore_after_activation_task.apply(args=(tenant.pk, version.pk, job.pk))

    assert isinstance(result.result, OperationalError)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "the database connection failed 6 times" in job.message


def test_task_with_missing_tenant(db):
    assert rescore_after_activation_task.delay(999_999, 1, 1).get() is None


def test_trigger_rescore_starts_jobs_for_trigger_versions(tenant, other_tenant, accounts):
    with tenant_scope(other_tenant):
        AccountFactory(tenant=other_tenant)
    with TestCase.captureOnCommitCallbacks(execute=True):
        icp_version_activate(version=draft(tenant, criteria=TRIGGER))
        icp_version_activate(version=draft(other_tenant))
    funded = Account.all_tenants.get(pk=accounts[0].pk)
    funded.triggers = {"funding": (tenant.today() - datetime.timedelta(days=3)).isoformat()}
    funded.save()

    with TestCase.captureOnCommitCallbacks(execute=True):
        started = rescore_trigger_tenants_task.delay().get()

    assert started == 1
    jobs = Job.all_tenants.filter(kind=Job.Kind.ICP_RESCORE).order_by("pk")
    assert [job.tenant_id for job in jobs] == [tenant.pk, other_tenant.pk, tenant.pk]
    assert jobs.last().status == Job.Status.SUCCEEDED
    assert jobs.last().result["accounts_changed"] == 1
    assert fits(accounts)[0][1] == "A"


def test_trigger_rescore_skips_pending_job(tenant, accounts):
    version = draft(tenant, criteria=TRIGGER)
    icp_version_activate(version=version)

    assert rescore_trigger_tenants_task.delay().get() == 0
    Job.all_tenants.update(updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    assert rescore_trigger_tenants_task.delay().get() == 1


def test_new_activation_keeps_earned_fit(tenant, accounts):
    with tenant_scope(tenant):
        partner = PartnerFactory(tenant=tenant)
        CommissionPlanFactory(tenant=tenant, base_rate=Decimal("0.1000"))
        registration_create(partner, accounts[0].domain, datetime.date(2017, 1, 1))
        deal = DealFactory(
            tenant=tenant,
            account=accounts[0],
            stage=Deal.Stage.WON,
            amount=Decimal("1000.00"),
            close_date=datetime.date(2017, 6, 1),
            pipeline_status=Deal.PipelineStatus.PENDING,
        )
    first = draft(tenant)
    with TestCase.captureOnCommitCallbacks(execute=True):
        icp_version_activate(version=first)
    deals_process(tenant_id=tenant.pk)
    deal.refresh_from_db()
    entry = LedgerEntry.all_tenants.get(deal=deal)
    earned_deal = (deal.won_fit_score, deal.won_fit_tier, deal.won_fit_version_id)
    earned_entry = (entry.fit_score, entry.fit_tier, entry.icp_version_id, entry.amount)
    assert earned_deal == (100, "A", first.pk)
    assert earned_entry[:3] == (100, "A", first.pk)

    second = draft(tenant, criteria=RETAIL, name="v2")
    with TestCase.captureOnCommitCallbacks(execute=True):
        icp_version_activate(version=second)

    assert fits(accounts[:1]) == [(0, "D", second.pk)]
    deal.refresh_from_db()
    entry.refresh_from_db()
    assert (deal.won_fit_score, deal.won_fit_tier, deal.won_fit_version_id) == earned_deal
    assert (entry.fit_score, entry.fit_tier, entry.icp_version_id, entry.amount) == earned_entry
    assert LedgerEntry.all_tenants.count() == 1


def test_rescore_icp_command_runs_a_job(tenant, accounts):
    version = draft(tenant)
    icp_version_activate(version=version)
    output = StringIO()

    call_command("rescore_icp", "--tenant", "acme", stdout=output)

    assert "rescored 4 accounts against ICP version 1 (4 changed)" in output.getvalue()
    jobs = Job.all_tenants.filter(kind=Job.Kind.ICP_RESCORE).order_by("pk")
    assert [job.status for job in jobs] == [Job.Status.QUEUED, Job.Status.SUCCEEDED]
    assert [fit[1] for fit in fits(accounts)] == ["A", "A", "C", "D"]


def test_rescore_icp_command_without_active_version(tenant):
    with pytest.raises(CommandError, match="has no active ICP version"):
        call_command("rescore_icp", "--tenant", "acme")
