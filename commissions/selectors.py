"""Reads of commission plans and the ledger."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from commissions.models import CommissionPlan, LedgerEntry, RevenueEvent


def commission_plan_active() -> CommissionPlan | None:
    return CommissionPlan.objects.filter(is_active=True).first()


def ledger_entry_list(
    *, partner_id: int | None = None, status: str | None = None, kind: str | None = None
) -> QuerySet[LedgerEntry]:
    """Return the active tenant's ledger entries, newest first, with what lists show."""
    entries = LedgerEntry.objects.select_related(
        "partner", "deal", "deal__account", "icp_version"
    ).order_by("-created_at", "-id")
    if partner_id is not None:
        entries = entries.filter(partner_id=partner_id)
    if status:
        entries = entries.filter(status=status)
    if kind:
        entries = entries.filter(kind=kind)
    return entries


def revenue_event_list(*, kind: str | None = None) -> QuerySet[RevenueEvent]:
    """Return the active tenant's refund and churn events, newest first, with their reversals."""
    events = (
        RevenueEvent.objects.select_related("deal", "account")
        .prefetch_related(
            Prefetch("ledger_entries", queryset=LedgerEntry.objects.order_by("reverses_id", "id"))
        )
        .order_by("-created_at", "-id")
    )
    if kind:
        events = events.filter(kind=kind)
    return events


def revenue_event_get(*, pk: int) -> RevenueEvent:
    return revenue_event_list().get(pk=pk)
