"""Celery tasks that keep partners' ICP-overlap scores current."""

from __future__ import annotations

import logging

from celery import shared_task

from partners import services
from reporting.services import partner_rollups_refresh
from tenancy.models import Tenant
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)


@shared_task(name="partners.tasks.refresh_partner_scores_task", time_limit=600)
def refresh_partner_scores_task(tenant_id: int) -> int:
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.warning("partner_scores.tenant_missing tenant_id=%s", tenant_id)
        return 0
    with tenant_scope(tenant):
        return services.partner_scores_refresh(tenant=tenant)


@shared_task(name="partners.tasks.refresh_all_partner_scores_task", time_limit=1800)
def refresh_all_partner_scores_task() -> int:
    """Refresh every tenant's partner scores and roll-ups, one tenant scope at a time."""
    total = 0
    for tenant in Tenant.objects.order_by("pk"):
        with tenant_scope(tenant):
            total += services.partner_scores_refresh(tenant=tenant)
            partner_rollups_refresh()
    return total
