"""Celery tasks of attribution: writing queued clicks and re-attributing deals."""

from __future__ import annotations

from celery import shared_task

from attribution.clicks import clicks_drain
from attribution.rules import deals_reattribute_all
from crm.tasks import PIPELINE_TASK_OPTIONS


@shared_task(name="attribution.tasks.drain_clicks_task", **PIPELINE_TASK_OPTIONS)
def drain_clicks_task() -> int:
    """Write the clicks waiting in Redis; beat runs it every few seconds."""
    return clicks_drain().written


@shared_task(name="attribution.tasks.reattribute_deals_task", **PIPELINE_TASK_OPTIONS)
def reattribute_deals_task(tenant_id: int) -> int:
    """Attribute the tenant's unbooked deals again after its attribution rule changed."""
    return deals_reattribute_all(tenant_id=tenant_id)
