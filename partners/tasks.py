"""Celery tasks that keep partners' scores current; each is safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from redis.exceptions import RedisError

from partners import recompute, services
from reporting.services import partner_rollups_refresh
from tenancy.models import Tenant
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

# NOTE: a guess with a wide margin. Refreshing the demo tenant's five partners takes
# about 0.1 s, but no tenant with thousands of large reach lists was measured.
REFRESH_TIME_LIMIT_SECONDS = 600


@shared_task(
    bind=True,
    name="partners.tasks.refresh_partner_scores_task",
    acks_late=True,
    time_limit=REFRESH_TIME_LIMIT_SECONDS,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=5,
)
def refresh_partner_scores_task(
    self, tenant_id: int, partner_ids: list[int] | None = None, claim: bool = False
) -> int:
    """Refresh the tenant's partner scores and return how many partners were written.

    Refreshes `partner_ids`, or every partner when it is None. With `claim`, the task
    was scheduled by `partners.recompute` and refreshes the partners pending for the
    tenant instead, or every partner when Redis is unreachable.
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.warning("partner_scores.tenant_missing tenant_id=%s", tenant_id)
        return 0
    claim_id = self.request.id or "direct"
    if claim:
        try:
            claimed = recompute.pending_claim(tenant_id=tenant_id, claim_id=claim_id)
        except RedisError:
            logger.exception(
                "partner_scores.claim_failed tenant_id=%s: refreshing every partner", tenant_id
            )
            claimed = recompute.Claim(found=True, partner_ids=None)
        if not claimed.found:
            logger.info("partner_scores.nothing_pending tenant_id=%s", tenant_id)
            return 0
        partner_ids = claimed.partner_ids

    with tenant_scope(tenant):
        written = services.partner_scores_refresh(tenant=tenant, partner_ids=partner_ids)
    if claim:
        recompute.pending_release(tenant_id=tenant_id, claim_id=claim_id)
    return written


@shared_task(name="partners.tasks.refresh_all_partner_scores_task", time_limit=1800)
def refresh_all_partner_scores_task() -> int:
    """Refresh every tenant's partner scores and roll-ups, one tenant scope at a time."""
    total = 0
    for tenant in Tenant.objects.order_by("pk"):
        with tenant_scope(tenant):
            total += services.partner_scores_refresh(tenant=tenant)
            partner_rollups_refresh()
    return total


@shared_task(
    name="partners.tasks.send_signup_email_task",
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=5,
    time_limit=120,
)
def send_signup_email_task(tenant_id: int, application_id: int) -> bool:
    """Send one applicant's sign-up link; SMTP failures are retried with back-off."""
    from partners.signup import signup_email_send

    return signup_email_send(tenant_id=tenant_id, application_id=application_id)


@shared_task(
    name="partners.tasks.send_acceptance_email_task",
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=5,
    time_limit=120,
)
def send_acceptance_email_task(tenant_id: int, partner_id: int) -> int:
    """Send an accepted partner's welcome e-mail; SMTP failures are retried with back-off."""
    from partners.acceptance import acceptance_email_send

    # NOTE: a retry after an SMTP failure sends again to every recipient, including
    # those whose message went out before the failure.
    return acceptance_email_send(tenant_id=tenant_id, partner_id=partner_id)
