"""The plan simulation page starts a background job, shows its progress, then its report."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from commissions.simulation import plan_simulate
from commissions.simulation_jobs import simulation_run, simulation_start
from jobs.models import Job
from tenancy.scope import tenant_scope
from tests.commissions.simulation_data import draft, won
from tests.factories import CommissionPlanFactory, PartnerFactory


@pytest.fixture
def plan(tenant):
    with tenant_scope(tenant):
        active = CommissionPlanFactory(tenant=tenant, name="Active", base_rate=Decimal("0.1000"))
        partner = PartnerFactory(tenant=tenant, name="Initech Partners")
        won(partner, amount="1000.00", tier="A", book=active)
        won(partner, amount="500.00", tier="B", book=active)
        return draft(tenant, multiplier_a=Decimal("2.00"))


def page_url(plan) -> str:
    return reverse("commissions:plan_simulate", args=[plan.pk])


def simulation_jobs(tenant):
    with tenant_scope(tenant):
        return list(Job.objects.filter(kind=Job.Kind.PLAN_SIMULATE))


def test_page_without_job_shows_form(manager_client, plan):
    page = manager_client.get(page_url(plan)).content.decode()

    assert 'name="months"' in page
    assert "press Simulate" in page
    assert "Totals" not in page


def test_submit_runs_job_and_shows_report(manager_client, plan, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(page_url(plan), {"months": "3", "until": ""})

    [job] = simulation_jobs(plan.tenant)
    assert response.status_code == 302
    assert response["Location"] == f"{page_url(plan)}?job={job.pk}"
    assert job.status == Job.Status.SUCCEEDED
    assert job.done == job.total == 2
    page = manager_client.get(response["Location"]).content.decode()
    assert "Per ICP tier" in page
    assert "Initech Partners" in page
    # 1,000.00 × 10 % × 2.00 + 500.00 × 10 % × 1.00
    assert "250.00" in page
    assert "hx-get" not in page.split('id="simulation"')[1].split(">")[0]


def test_unfinished_job_polls_page(manager_client, plan):
    # Without the commit callbacks the task is never sent, so the job stays queued.
    response = manager_client.post(page_url(plan), {"months": "3"})

    page = manager_client.get(response["Location"]).content.decode()
    assert "Waiting for a worker" in page
    assert f'hx-get="{response["Location"]}"' in page
    assert 'http-equiv="refresh"' in page


def test_double_submit_reuses_queued_job(manager_client, plan):
    first = manager_client.post(page_url(plan), {"months": "3"})
    second = manager_client.post(page_url(plan), {"months": "3"})

    assert first["Location"] == second["Location"]
    assert len(simulation_jobs(plan.tenant)) == 1


def test_invalid_months_error_next_to_field(manager_client, plan):
    response = manager_client.post(page_url(plan), {"months": "0"})

    page = response.content.decode()
    assert response.status_code == 400
    assert 'aria-invalid="true" aria-describedby="simulate-error"' in page
    assert 'id="simulate-error"' in page
    assert simulation_jobs(plan.tenant) == []


def test_job_of_other_plan_is_404(manager_client, plan, tenant):
    with tenant_scope(tenant):
        other = draft(tenant, name="Other draft")
        job, _ = simulation_start(plan=other, months=3, until=None)

    response = manager_client.get(f"{page_url(plan)}?job={job.pk}")

    assert response.status_code == 404


def test_job_of_other_tenant_is_404(manager_client, plan, other_tenant):
    with tenant_scope(other_tenant):
        theirs = draft(other_tenant, name="Their draft")
        job, _ = simulation_start(plan=theirs, months=3, until=None)

    response = manager_client.get(f"{reverse('commissions:plan_simulate', args=[theirs.pk])}")
    by_job = manager_client.get(f"{page_url(plan)}?job={job.pk}")

    assert response.status_code == 404
    assert by_job.status_code == 404


def test_deleted_plan_fails_job(plan, tenant):
    with tenant_scope(tenant):
        job, _ = simulation_start(plan=plan, months=3, until=None)
        plan.delete()

    simulation_run(job_id=job.pk, tenant_id=tenant.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "deleted" in job.message


def test_progress_reports_every_deal(plan, tenant):
    calls = []
    with tenant_scope(tenant):
        plan_simulate(plan=plan, months=3, progress=lambda done, total: calls.append((done, total)))

    assert calls == [(2, 2)]
