"""Plan simulations as background jobs, so a long replay shows its progress.

A simulation of a large history prices every won partner deal of the window twice
(under the plan and the active plan), which takes seconds at 100,000 deals. The
page starts a job and polls it. The finished report is stored on the job as JSON,
with amounts as decimal strings, so the page can show it again without recomputing.
"""

from __future__ import annotations

import datetime
import json
import logging

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse

from commissions.models import CommissionPlan
from commissions.simulation import months_validate, plan_simulate, until_validate
from jobs.models import Job
from jobs.services import job_create, job_fail, job_progress, job_start, job_succeed
from tenancy.errors import DomainError
from tenancy.queue import enqueue_on_commit
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

UNFINISHED = (Job.Status.QUEUED, Job.Status.RUNNING)


def _subject(plan: CommissionPlan, months: int, until: datetime.date) -> str:
    return f"commission_plan:{plan.pk}:months:{months}:until:{until.isoformat()}"


def _params(subject: str) -> tuple[int, int, datetime.date]:
    """Return (plan id, months, until) from a simulation job's subject."""
    _, plan_id, _, months, _, until = subject.split(":")
    return int(plan_id), int(months), datetime.date.fromisoformat(until)


def simulation_start(*, plan: CommissionPlan, months, until, actor=None) -> tuple[Job, bool]:
    """Queue a simulation of `plan` over `months` ending on `until`; return (job, created).

    A queued or running job with the same plan and window is returned instead of a
    new one, so a double click starts one job. Raises DomainError for an invalid
    window before anything is written. Runs in the plan's tenant scope.
    """
    months = months_validate(months)
    end = until_validate(until or None, today=plan.tenant.today())
    subject = _subject(plan, months, end)
    with transaction.atomic():
        running = (
            Job.objects.select_for_update()
            .filter(kind=Job.Kind.PLAN_SIMULATE, subject=subject, status__in=UNFINISHED)
            .order_by("-pk")
            .first()
        )
        if running is not None:
            return running, False
        job = job_create(
            tenant=plan.tenant, kind=Job.Kind.PLAN_SIMULATE, subject=subject, actor=actor
        )
        # Imported here because the task module imports this one.
        from commissions.tasks import plan_simulation_task

        enqueue_on_commit(plan_simulation_task, job.pk, plan.tenant_id)
    logger.info(
        "plan_simulation.queued tenant_id=%s plan_id=%s job_id=%s months=%s until=%s",
        plan.tenant_id,
        plan.pk,
        job.pk,
        months,
        end,
    )
    return job, True


def simulation_run(*, job_id: int, tenant_id: int) -> bool:
    """Run simulation job `job_id` and store its report; return False when it was skipped.

    A job that is finished or gone is skipped, so a redelivered task does nothing.
    A plan deleted since the job was queued, or an invalid window, fails the job
    with a message that names the next step.
    """
    job = Job.all_tenants.select_related("tenant").filter(pk=job_id, tenant_id=tenant_id).first()
    if job is None or not job_start(job_id=job_id, tenant_id=tenant_id, stage="Loading deals"):
        return False
    plan_id, months, until = _params(job.subject)
    with tenant_scope(job.tenant):
        plan = CommissionPlan.objects.filter(pk=plan_id).first()
        if plan is None:
            job_fail(
                job_id=job_id,
                tenant_id=tenant_id,
                message="The plan was deleted before its simulation ran. Simulate another plan.",
            )
            return True

        def progress(done: int, total: int) -> None:
            job_progress(
                job_id=job_id, tenant_id=tenant_id, done=done, total=total, stage="Pricing deals"
            )

        try:
            report = plan_simulate(plan=plan, months=months, until=until, progress=progress)
        except DomainError as error:
            logger.warning(
                "plan_simulation.rejected job_id=%s tenant_id=%s reason=%s",
                job_id,
                tenant_id,
                error.message,
            )
            job_fail(job_id=job_id, tenant_id=tenant_id, message=f"{error.message} {error.fix}")
            return True
    url = reverse("commissions:plan_simulate", args=[plan_id])
    job_succeed(
        job_id=job_id,
        tenant_id=tenant_id,
        message=f"Priced {report['totals']['deals']:,} deals.",
        result=json.loads(json.dumps(report, cls=DjangoJSONEncoder)),
        target_url=f"{url}?job={job_id}",
    )
    return True


def simulation_job(*, plan: CommissionPlan, job_id) -> Job | None:
    """Return the active tenant's simulation job `job_id` of `plan`, or None."""
    try:
        job_id = int(job_id)
    except (TypeError, ValueError):
        return None
    prefix = f"commission_plan:{plan.pk}:"
    return Job.objects.filter(
        pk=job_id, kind=Job.Kind.PLAN_SIMULATE, subject__startswith=prefix
    ).first()


def simulation_window(job: Job) -> tuple[int, datetime.date]:
    """Return the (months, until) a simulation job was started with."""
    _, months, until = _params(job.subject)
    return months, until
