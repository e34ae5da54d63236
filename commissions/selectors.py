"""Reads of commission plans and the ledger."""

from __future__ import annotations

import datetime

from django.db.models import F, Prefetch, QuerySet

from commissions.models import CommissionPlan, LedgerEntry, Payout, RevenueEvent
from tenancy.errors import NotFound


def commission_plan_active() -> CommissionPlan | None:
    """Return the plan activated last: the one the program runs on from now on."""
    return CommissionPlan.objects.filter(is_active=True).first()


def commission_plans_activated() -> list[CommissionPlan]:
    """Return the active tenant's activated plans, latest effective date first."""
    return list(
        CommissionPlan.objects.filter(is_draft=False)
        .exclude(activated_at__isnull=True, is_active=False)
        .order_by(F("effective_from").desc(nulls_last=True), "-id")
    )


def plan_in_force(plans: list[CommissionPlan], day: datetime.date) -> CommissionPlan | None:
    """Return the plan of `plans` whose effective range contains `day`, or None."""
    for plan in plans:
        if (plan.effective_from is None or plan.effective_from <= day) and (
            plan.effective_to is None or day <= plan.effective_to
        ):
            return plan
    return None


def commission_plan_get(*, pk: int) -> CommissionPlan:
    """Return the active tenant's plan `pk` with its rules, or raise NotFound."""
    plan = CommissionPlan.objects.prefetch_related("rules__partner").filter(pk=pk).first()
    if plan is None:
        raise NotFound(
            "No commission plan has this id.",
            field="id",
            value=pk,
            fix="List plans with GET /api/v1/commission-plans/ to find the id.",
        )
    return plan


def commission_plan_list() -> QuerySet[CommissionPlan]:
    """Return the active tenant's plans: active first, then drafts, then earlier plans."""
    return CommissionPlan.objects.prefetch_related("rules__partner").order_by(
        "-is_active", "-is_draft", F("effective_from").desc(nulls_last=True), "-id"
    )


def ledger_entry_list(
    *, partner_id: int | None = None, status: str | None = None, kind: str | None = None
) -> QuerySet[LedgerEntry]:
    """Return the active tenant's ledger entries, newest first, with what lists show."""
    entries = LedgerEntry.objects.select_related(
        "partner", "plan", "deal", "deal__account", "icp_version"
    ).order_by("-created_at", "-id")
    if partner_id is not None:
        entries = entries.filter(partner_id=partner_id)
    if status:
        entries = entries.filter(status=status)
    if kind:
        entries = entries.filter(kind=kind)
    return entries


def ledger_entry_get(*, pk: int) -> LedgerEntry:
    """Return the active tenant's entry `pk` with what lists show, or raise NotFound."""
    entry = ledger_entry_list().filter(pk=pk).first()
    if entry is None:
        raise NotFound(
            "No ledger entry has this id.",
            field="id",
            value=pk,
            fix="List entries with GET /api/v1/ledger/ to find the id.",
        )
    return entry


def payout_list(
    *,
    period_start: datetime.date | None = None,
    status: str | None = None,
    partner_id: int | None = None,
) -> QuerySet[Payout]:
    """Return the active tenant's payouts, newest period first."""
    payouts = Payout.objects.select_related("partner", "prepared_by", "approved_by").order_by(
        "-period_start", "partner__name", "currency", "id"
    )
    if period_start is not None:
        payouts = payouts.filter(period_start=period_start)
    if status:
        payouts = payouts.filter(status=status)
    if partner_id is not None:
        payouts = payouts.filter(partner_id=partner_id)
    return payouts


def payout_get(*, pk: int, partner_id: int | None = None) -> Payout:
    """Return the active tenant's payout `pk` (of `partner_id` when given), or raise NotFound."""
    payout = payout_list(partner_id=partner_id).filter(pk=pk).first()
    if payout is None:
        raise NotFound(
            "No payout has this id.",
            field="id",
            value=pk,
            fix="List payouts with GET /api/v1/payouts/ to find the id.",
        )
    return payout


def payout_entries(payout: Payout) -> QuerySet[LedgerEntry]:
    """Return the entries of a payout, oldest first, with what statements show."""
    return (
        LedgerEntry.objects.filter(payout_line__payout=payout)
        .select_related("deal")
        .order_by("created_at", "id")
    )


def payout_carried_entries(payout: Payout) -> QuerySet[LedgerEntry]:
    """Return the entries a carried-over payout left for the next one, for its statement.

    Payouts carried over before `carried_entry_ids` existed stored no ids; for them
    this lists the partner's approved entries that are in no payout now.
    """
    entries = LedgerEntry.objects.select_related("deal").order_by("created_at", "id")
    if payout.carried_entry_ids:
        return entries.filter(pk__in=payout.carried_entry_ids)
    return entries.filter(
        partner_id=payout.partner_id,
        currency=payout.currency,
        status=LedgerEntry.Status.APPROVED,
        payout_line__isnull=True,
    )


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
    """Return the active tenant's event `pk` with its reversals, or raise NotFound."""
    event = revenue_event_list().filter(pk=pk).first()
    if event is None:
        raise NotFound(
            "No revenue event has this id.",
            field="id",
            value=pk,
            fix="List events with GET /api/v1/revenue-events/ to find the id.",
        )
    return event
