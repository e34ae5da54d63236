"""Celery tasks of the fraud scan; both are safe to run twice and to stop half way."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from attribution.fraud.scan import fraud_scan
from attribution.fraud.selectors import partners_active_since
from attribution.fraud.thresholds import RECENT_ACTIVITY
from tenancy.models import Tenant
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

# Lost database connections are retried with backoff. A rerun adds nothing the
# first run stored, because signal keys and holds are idempotent.
FRAUD_TASK_OPTIONS = {
    "time_limit": 900,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 5,
}


@shared_task(name="attribution.fraud_tasks.fraud_scan_task", **FRAUD_TASK_OPTIONS)
def fraud_scan_task(
    tenant_id: int, partner_ids: list[int] | None = None, since: str | None = None
) -> int:
    """Scan the tenant's partners (all, or `partner_ids`) from `since`, an ISO timestamp.

    Returns how many new signals the scan raised.
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.warning("fraud_scan.tenant_missing tenant_id=%s", tenant_id)
        return 0
    since_at = datetime.datetime.fromisoformat(since) if since else None
    if since_at is not None and since_at.tzinfo is None:
        since_at = since_at.replace(tzinfo=datetime.UTC)
    return fraud_scan(tenant=tenant, partner_ids=partner_ids, since=since_at).new_total


@shared_task(name="attribution.fraud_tasks.fraud_scan_recent_task", **FRAUD_TASK_OPTIONS)
def fraud_scan_recent_task() -> int:
    """Scan every tenant's partners with clicks or registrations in the last RECENT_ACTIVITY.

    Celery beat runs this every 5 minutes. Returns how many new signals it raised.
    """
    since = timezone.now() - RECENT_ACTIVITY
    total = 0
    for tenant in Tenant.objects.order_by("pk"):
        try:
            with tenant_scope(tenant):
                partner_ids = partners_active_since(since=since)
            if partner_ids:
                total += fraud_scan(tenant=tenant, partner_ids=partner_ids, since=since).new_total
        except (OperationalError, InterfaceError):
            raise
        except Exception:
            # One tenant's trouble must not stop the scan of the others.
            logger.exception("fraud_scan.tenant_failed tenant_id=%s", tenant.pk)
    return total
