"""Celery tasks that learn ICP versions and rescore accounts in the background."""

from __future__ import annotations

import logging

from celery import shared_task
from django.contrib.auth import get_user_model

from icp.learning import InsufficientData
from icp.services import accounts_rescore, icp_learn
from tenancy.models import Tenant
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

# NOTE: the limit is a guess with a wide margin. Learning from the 6,711 closed deals of
# the demo data took about 3 s on a 2-core machine, and no large rescore has been timed.
TASK_TIME_LIMIT_SECONDS = 30 * 60


@shared_task(
    name="icp.tasks.learn_icp_task",
    acks_late=True,
    time_limit=TASK_TIME_LIMIT_SECONDS,
)
def learn_icp_task(tenant_id: int, actor_id: int | None = None) -> int | None:
    """Learn a draft ICP version for the tenant and return its id.

    Returns None when the tenant is gone or has too few closed deals. A redelivered
    task stores a second draft, because learning is not idempotent.
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.warning("icp.learn_task.skipped tenant_id=%s reason=tenant_not_found", tenant_id)
        return None
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None

    with tenant_scope(tenant):
        try:
            version = icp_learn(tenant=tenant, actor=actor)
        except InsufficientData as error:
            logger.warning(
                "icp.learn_task.rejected tenant_id=%s reason=%s", tenant_id, error.message
            )
            return None
    logger.info("icp.learn_task.finished tenant_id=%s icp_version_id=%s", tenant_id, version.pk)
    return version.pk


@shared_task(
    name="icp.tasks.rescore_accounts_task",
    acks_late=True,
    time_limit=TASK_TIME_LIMIT_SECONDS,
)
def rescore_accounts_task(tenant_id: int, account_ids: list[int] | None = None) -> int:
    """Rescore the tenant's accounts (all, or `account_ids`) and return how many were written."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.warning("icp.rescore_task.skipped tenant_id=%s reason=tenant_not_found", tenant_id)
        return 0

    with tenant_scope(tenant):
        written = accounts_rescore(tenant=tenant, account_ids=account_ids)
    logger.info("icp.rescore_task.finished tenant_id=%s accounts=%s", tenant_id, written)
    return written
