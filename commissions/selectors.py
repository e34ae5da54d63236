"""Reads of commission plans and the ledger."""

from __future__ import annotations

from django.db.models import QuerySet

from commissions.models import CommissionPlan, LedgerEntry


def commission_plan_active() -> CommissionPlan | None:
    return CommissionPlan.objects.filter(is_active=True).first()


def ledger_entry_list(*, partner_id: int | None = None) -> QuerySet[LedgerEntry]:
    entries = LedgerEntry.objects.select_related("partner", "deal", "deal__account").order_by(
        "-created_at", "-id"
    )
    if partner_id is not None:
        entries = entries.filter(partner_id=partner_id)
    return entries
