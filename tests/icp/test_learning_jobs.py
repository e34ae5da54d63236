"""Learning an ICP draft as a background job: start, task outcomes, progress, retries."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

import pytest
from celery.exceptions import Retry
from django.db import OperationalError
from django.utils import timezone

from crm.models import Deal
from icp import services
from icp.learning_jobs import icp_learn_start
from icp.models import IcpVersion
from icp.services import LEARN_STEPS
from icp.tasks import LEARN_JOB_MAX_RETRIES, LEARN_JOB_STALE_SECONDS, learn_icp_job_task
from jobs.models import Job
from tenancy.errors import DomainError
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory
from tests.icp.test_services import create_closed_deals


def job_of(job: Job) -> Job:
    return Job.all_tenants.get(pk=job.pk)


def create_random_deals(tenant, *, accounts: int = 20, deals_per_account: int = 5) -> None:
    """Create accounts whose deals are won or lost by a fixed coin toss."""
    coin = random.Random(3)
    with tenant_scope(tenant):
        for number in range(accounts):
            account = AccountFactory(
                tenant=tenant,
                industry=["software", "retail"][number % 2],
                employees=100 + 10 * number,
            )
            for deal_number in range(deals_per_account):
                won = coin.random() < 0.5
                DealFactory(
                    tenant=tenant,
                    account=account,
                    stage=Deal.Stage.WON if won else Deal.Stage.LOST,
                    amount=Decimal("500.00") if won else Decimal("0.00"),
                    close_date=datetime.date(2024, 1, 1) + datetime.timedelta(days=deal_number),
                )


def test_learn_job_succeeds_with_draft(tenant, admin_user, django_capture_on_commit_callbacks):
    create_closed_deals(tenant)

    with django_capture_on_commit_callbacks(execute=True):
        job, created = icp_learn_start(tenant=tenant, actor=admin_user, weighting="value")

    job = job_of(job)
    assert created is True
    assert job.kind == Job.Kind.ICP_LEARN
    assert job.status == Job.Status.SUCCEEDED
    assert job.created_by == admin_user
    assert (job.done, job.total) == (LEARN_STEPS, LEARN_STEPS)
    assert job.percent == 100
    version = IcpVersion.all_tenants.get(pk=job.result["version_id"])
    assert job.result == {"version_id": version.pk, "objective": "won", "signal": "strong"}
    assert job.target_url == f"/icp/versions/{version.pk}/"
    assert version.status == IcpVersion.Status.DRAFT
    assert version.created_by == admin_user
    assert version.metrics["weighting"] == "value"
    assert version.name == "Learned from 100 closed deals, weighted by value"
    assert job.message.startswith("Learned draft v1 from 100 closed deals, weighted by value.")
    assert "strong signal for won vs lost deals" in job.message


def test_learn_job_reports_each_step(tenant, monkeypatch, django_capture_on_commit_callbacks):
    create_closed_deals(tenant)
    written = []
    original = services.job_progress

    def record(**values):
        written.append((values["done"], values.get("total"), values.get("stage")))
        original(**values)

    monkeypatch.setattr(services, "job_progress", record)

    with django_capture_on_commit_callbacks(execute=True):
        icp_learn_start(tenant=tenant)

    steps = [done for done, _, _ in written]
    assert steps == list(range(LEARN_STEPS + 1))
    assert {total for _, total, _ in written} == {LEARN_STEPS}
    stages = [stage for _, _, stage in written]
    assert stages[0] == "Loading closed deals"
    assert "Cross-validating won vs lost" in stages
    assert "Counting the tenant's accounts per tier" in stages
    assert stages[LEARN_STEPS - 1] == "Saving the draft"


def test_learn_job_without_signal_says_so(tenant, staff_client, django_capture_on_commit_callbacks):
    create_random_deals(tenant)

    with django_capture_on_commit_callbacks(execute=True):
        job, _ = icp_learn_start(tenant=tenant)

    job = job_of(job)
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["signal"] == "none"
    assert "carries no signal" in job.message
    assert "do not activate it" in job.message
    page = staff_client.get(job.target_url).content.decode()
    assert "No signal: this profile cannot be trusted" in page
    job_page = staff_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "carries no signal" in job_page


def test_learn_job_with_too_few_deals_fails(tenant, django_capture_on_commit_callbacks):
    create_closed_deals(tenant, accounts=3)

    with django_capture_on_commit_callbacks(execute=True):
        job, _ = icp_learn_start(tenant=tenant)

    job = job_of(job)
    assert job.status == Job.Status.FAILED
    assert job.message.startswith("Too few closed deals to learn an ICP: found 15 closed")
    assert "at least 40 closed, 10 won, 10 lost, 15 accounts" in job.message
    assert "Import more won and lost deals" in job.message
    assert job.finished_at is not None
    assert not IcpVersion.all_tenants.exists()


def test_second_start_returns_running_job(tenant, admin_user):
    first, first_created = icp_learn_start(tenant=tenant, actor=admin_user)
    Job.all_tenants.filter(pk=first.pk).update(status=Job.Status.RUNNING)

    second, second_created = icp_learn_start(tenant=tenant, weighting="value_and_churn")

    assert (first_created, second_created) == (True, False)
    assert second.pk == first.pk
    assert Job.all_tenants.filter(kind=Job.Kind.ICP_LEARN).count() == 1


def test_start_after_finished_job_queues_new_one(tenant):
    first, _ = icp_learn_start(tenant=tenant)
    Job.all_tenants.filter(pk=first.pk).update(status=Job.Status.FAILED)

    second, created = icp_learn_start(tenant=tenant)

    assert created is True
    assert second.pk != first.pk


def test_stale_job_is_superseded(tenant):
    stale, _ = icp_learn_start(tenant=tenant)
    long_ago = timezone.now() - datetime.timedelta(seconds=LEARN_JOB_STALE_SECONDS + 60)
    Job.all_tenants.filter(pk=stale.pk).update(status=Job.Status.RUNNING, updated_at=long_ago)

    fresh, created = icp_learn_start(tenant=tenant)

    assert created is True
    assert fresh.pk != stale.pk
    stale = job_of(stale)
    assert stale.status == Job.Status.SUPERSEDED
    assert "No progress for over 35 minutes" in stale.message


def test_other_tenants_job_does_not_block(tenant, other_tenant):
    theirs, _ = icp_learn_start(tenant=other_tenant)

    ours, created = icp_learn_start(tenant=tenant)

    assert created is True
    assert ours.pk != theirs.pk
    assert ours.tenant_id == tenant.pk


@pytest.mark.parametrize(
    ("values", "field"),
    [
        pytest.param({"weighting": "revenue"}, "weighting", id="weighting"),
        pytest.param({"name": "x" * 300}, "name", id="name"),
    ],
)
def test_start_rejects_invalid_input(tenant, values, field):
    with pytest.raises(DomainError) as caught:
        icp_learn_start(tenant=tenant, **values)

    assert caught.value.field == field
    assert not Job.all_tenants.exists()


def test_start_is_audited(tenant, admin_user):
    job, _ = icp_learn_start(tenant=tenant, actor=admin_user, weighting="value")

    event = AuditEvent.all_tenants.get(event="icp_learn.started")
    assert event.object_id == str(job.pk)
    assert event.actor == admin_user
    assert event.after == {"weighting": "value", "name": None}


def test_redelivered_task_after_success_stores_nothing(tenant, django_capture_on_commit_callbacks):
    create_closed_deals(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        job, _ = icp_learn_start(tenant=tenant)

    assert learn_icp_job_task.delay(job.pk, tenant.pk).get() is None

    assert IcpVersion.all_tenants.count() == 1
    assert job_of(job).status == Job.Status.SUCCEEDED


def test_unexpected_error_fails_job_and_raises(tenant, monkeypatch):
    create_closed_deals(tenant)
    job, _ = icp_learn_start(tenant=tenant)

    def broken(*args, **kwargs):
        raise ValueError("matrix is singular")

    monkeypatch.setattr(services, "learn_profile", broken)

    with pytest.raises(ValueError, match="matrix is singular"):
        learn_icp_job_task.delay(job.pk, tenant.pk)

    job = job_of(job)
    assert job.status == Job.Status.FAILED
    assert job.message.startswith("Learning failed with an unexpected error (ValueError).")
    assert f"job id {job.pk}" in job.message
    assert not IcpVersion.all_tenants.exists()


def test_database_error_retries_then_fails(tenant, monkeypatch):
    create_closed_deals(tenant)
    job, _ = icp_learn_start(tenant=tenant)

    def unreachable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "_closed_deals_frame", unreachable)

    with pytest.raises(Retry):
        learn_icp_job_task.delay(job.pk, tenant.pk)

    assert job_of(job).status == Job.Status.RUNNING
    assert job_of(job).message == ""

    with pytest.raises(OperationalError):
        learn_icp_job_task.apply(
            args=(job.pk, tenant.pk), retries=LEARN_JOB_MAX_RETRIES, throw=True
        )

    job = job_of(job)
    assert job.status == Job.Status.FAILED
    assert "database stayed unreachable after 5 retries" in job.message
    assert job.attempts == 2


def test_task_for_missing_tenant_does_nothing(db):
    assert learn_icp_job_task.delay(999_999, 999_999).get() is None
