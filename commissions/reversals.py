"""Refund and churn events, and the ledger reversals they write.

A client records an event (`revenue_event_record`); once it commits, a Celery task
runs `revenue_event_process`, which writes one reversal per accrual the event
touches. Each reversal's idempotency key names the event and the accrual, and the
event is marked processed in the same transaction, so a retried task or a resent
event never reverses twice.

An event processed before its deal's accrual exists (no active plan yet, or the
pipeline has not run) reverses nothing at first. When the pipeline later writes the
accrual, `reversals_catch_up` replays the deal's processed events onto it in the
order they were processed. Such an event is still marked processed, because a deal
with no partner never gets an accrual to wait for.

`revenue_events_sweep` processes events whose task was lost, such as while the
broker was down.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from commissions.models import LedgerEntry, RevenueEvent
from commissions.money import minor_unit, money_round
from crm.models import Account, Deal
from tenancy.errors import Conflict, DomainError, NotFound
from tenancy.queue import enqueue_on_commit
from tenancy.scope import tenant_scope
from tenancy.services import audit_record
from webhooks.events import event_emit
from webhooks.payloads import ledger_entry_payloads

logger = logging.getLogger(__name__)

# Fields compared when an event is sent again under the same external id.
EVENT_FIELDS = ("kind", "deal_id", "account_id", "amount", "currency", "occurred_on")
# Shown names of those fields in a 409, as the client sent them.
FIELD_NAMES = {"deal_id": "deal_external_id", "account_id": "account_external_id"}


def reversal_key(*, event_id: int, kind: str, entry_id: int) -> str:
    """Return the idempotency key of the reversal of one entry by one event."""
    return f"reversal:{kind}:{event_id}:entry:{entry_id}"


# ----------------------------------------------------------------------------------
# Pure arithmetic: what a reversal takes back.


def refund_reversal(
    *,
    accrued: Decimal,
    remaining: Decimal,
    deal_amount: Decimal,
    refunded_before: Decimal,
    refund: Decimal,
    currency: str,
    churned: bool = False,
) -> Decimal:
    """Return the (positive) amount a refund takes back from an accrual.

    It is refund / deal amount of the accrued amount, rounded half up to the minor
    unit, and never more than what is left of the accrual. Once refunds reach the
    deal amount, the reversal is exactly what is left, so a full refund nets to zero.

    After a churn took back the unearned part, the refund takes its share of what
    is left instead: refund / unrefunded deal amount of `remaining`. The churn
    already took back the unearned part of the refunded amount too, so taking
    the refund's share of the full accrual would take it back twice.
    """
    if remaining <= 0 or deal_amount <= 0:
        return Decimal(0)
    if refunded_before + refund >= deal_amount:
        return remaining
    if churned:
        exact = remaining * refund / (deal_amount - refunded_before)
    else:
        exact = accrued * refund / deal_amount
    share = exact.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)
    return min(share, remaining)


def churn_reversal(
    *, remaining: Decimal, clawback_days: int, days_served: int, currency: str
) -> Decimal:
    """Return the (positive) amount a churn takes back: the unearned part of what is left.

    Unearned is remaining × (clawback_days − days served) / clawback_days, rounded half
    up. No clawback window (0 days), or churn once the window has passed, takes nothing.
    """
    if remaining <= 0 or clawback_days <= 0 or days_served >= clawback_days:
        return Decimal(0)
    days_not_served = clawback_days - max(days_served, 0)
    unearned = (remaining * days_not_served / clawback_days).quantize(
        minor_unit(currency), rounding=ROUND_HALF_UP
    )
    return min(unearned, remaining)


# ----------------------------------------------------------------------------------
# Recording events.


@dataclass
class RecordResult:
    event: RevenueEvent
    created: bool


def event_values_check(
    *, kind, deal_external_id, account_external_id, amount, currency, occurred_on
) -> dict:
    """Check the event's fields against the tenant's deals and accounts; return model values."""
    if kind == RevenueEvent.Kind.REFUND:
        if not deal_external_id:
            raise DomainError(
                "A refund needs the deal it refunds.",
                field="deal_external_id",
                value=deal_external_id,
                fix="Send the external_id of the won deal.",
            )
        deal = Deal.objects.filter(external_id=deal_external_id).first()
        if deal is None:
            raise NotFound(
                f"No deal has external_id {deal_external_id!r}.",
                field="deal_external_id",
                value=deal_external_id,
                fix="Create the deal first, or correct the id.",
            )
        if deal.stage != Deal.Stage.WON:
            raise DomainError(
                f"Deal {deal_external_id!r} is {deal.stage}, not won.",
                field="deal_external_id",
                value=deal_external_id,
                fix="Only a won deal can be refunded.",
            )
        if currency and currency != deal.currency:
            raise DomainError(
                f"The deal is in {deal.currency}, not {currency}.",
                field="currency",
                value=currency,
                fix=f"Send the refund in {deal.currency}, or leave currency out.",
            )
        if amount is None or amount <= 0:
            raise DomainError(
                "A refund needs a positive amount.",
                field="amount",
                value=amount,
                fix="Send the refunded amount, such as 250.00.",
            )
        unit = minor_unit(deal.currency)
        if amount != amount.quantize(unit):
            raise DomainError(
                f"{amount} is not a whole number of {deal.currency} minor units.",
                field="amount",
                value=amount,
                fix=f"Round the amount to {unit}.",
            )
        if amount > deal.amount:
            raise DomainError(
                f"The refund {amount} is more than the deal amount {deal.amount}.",
                field="amount",
                value=amount,
                fix="Send at most the deal amount; a full refund is the deal amount.",
            )
        return {
            "kind": kind,
            "deal_id": deal.pk,
            "account_id": None,
            "amount": amount,
            "currency": deal.currency,
            "occurred_on": occurred_on,
        }
    if not account_external_id:
        raise DomainError(
            "A churn needs the account that churned.",
            field="account_external_id",
            value=account_external_id,
            fix="Send the external_id of the account.",
        )
    if amount is not None:
        raise DomainError(
            "A churn has no amount.",
            field="amount",
            value=amount,
            fix="Leave amount out; churn takes back the unearned part of the commission.",
        )
    account = Account.objects.filter(external_id=account_external_id).first()
    if account is None:
        raise NotFound(
            f"No account has external_id {account_external_id!r}.",
            field="account_external_id",
            value=account_external_id,
            fix="Create the account first, or correct the id.",
        )
    return {
        "kind": kind,
        "deal_id": None,
        "account_id": account.pk,
        "amount": None,
        "currency": "",
        "occurred_on": occurred_on,
    }


def _refunds_total(*, deal_id: int, exclude_id: int | None) -> Decimal:
    refunds = RevenueEvent.objects.filter(kind=RevenueEvent.Kind.REFUND, deal_id=deal_id)
    if exclude_id is not None:
        refunds = refunds.exclude(pk=exclude_id)
    return refunds.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def _stored_value(event: RevenueEvent, field: str):
    if field == "deal_id":
        return event.deal.external_id if event.deal_id else None
    if field == "account_id":
        return event.account.external_id if event.account_id else None
    return getattr(event, field)


def event_changes_check(
    event: RevenueEvent, values: dict, *, deal_external_id, account_external_id
) -> list[str]:
    """Return the fields whose new `values` differ from the stored `event`.

    Raise Conflict, naming the first changed field, when the event is processed.
    """
    changed = [field for field in EVENT_FIELDS if getattr(event, field) != values[field]]
    if changed and event.processed_at is not None:
        field = changed[0]
        raise Conflict(
            f"Event {event.external_id!r} is already processed with "
            f"{FIELD_NAMES.get(field, field)} {_stored_value(event, field)}.",
            field=FIELD_NAMES.get(field, field),
            value={"deal_id": deal_external_id, "account_id": account_external_id}.get(
                field, values[field]
            ),
            fix="Send a new event with its own external_id for a further refund, "
            "or resend this one unchanged.",
        )
    return changed


def refunds_over_deal_error(*, deal: Deal, total: Decimal, amount: Decimal) -> DomainError:
    """Return the error for a refund that brings the deal's refunds to `total`, past its amount."""
    return DomainError(
        f"Refunds of deal {deal.external_id!r} would total {total}, more than the "
        f"deal amount {deal.amount}.",
        field="amount",
        value=amount,
        fix=f"Send at most what is left unrefunded: {deal.amount - (total - amount)}.",
    )


@transaction.atomic
def revenue_event_record(
    *,
    tenant,
    external_id: str,
    kind: str,
    occurred_on,
    deal_external_id: str | None = None,
    account_external_id: str | None = None,
    amount: Decimal | None = None,
    currency: str = "",
    actor=None,
) -> RecordResult:
    """Create or update a refund or churn event by external id, then queue its reversals.

    The same external id with the same values changes nothing. Different values
    update an event whose reversals are not written yet, and raise Conflict, naming
    the first changed field, once they are.
    """
    values = event_values_check(
        kind=kind,
        deal_external_id=deal_external_id,
        account_external_id=account_external_id,
        amount=amount,
        currency=currency,
        occurred_on=occurred_on,
    )
    event = RevenueEvent.objects.select_for_update().filter(external_id=external_id).first()
    created = False
    if event is None:
        try:
            with transaction.atomic():
                event = RevenueEvent.objects.create(
                    tenant=tenant, external_id=external_id, **values
                )
            created = True
        except IntegrityError:
            # Another request created it first; compare with what it stored.
            event = RevenueEvent.objects.select_for_update().get(external_id=external_id)
    if not created:
        changed = event_changes_check(
            event,
            values,
            deal_external_id=deal_external_id,
            account_external_id=account_external_id,
        )
        for field in changed:
            setattr(event, field, values[field])
        if changed:
            event.save()
    if values["kind"] == RevenueEvent.Kind.REFUND:
        total = _refunds_total(deal_id=values["deal_id"], exclude_id=None)
        deal = Deal.objects.get(pk=values["deal_id"])
        if total > deal.amount:
            # Raising rolls back this transaction, so nothing is stored.
            raise refunds_over_deal_error(deal=deal, total=total, amount=values["amount"])
    if created or event.processed_at is None:
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            event="revenue_event.recorded",
            obj=event,
            after={field: str(values[field]) for field in EVENT_FIELDS},
        )
        from commissions.tasks import revenue_event_process_task

        enqueue_on_commit(revenue_event_process_task, tenant.pk, event.pk)
    logger.info(
        "revenue_event.recorded tenant_id=%s event_id=%s kind=%s created=%s",
        tenant.pk,
        event.pk,
        event.kind,
        created,
    )
    return RecordResult(event=event, created=created)


# ----------------------------------------------------------------------------------
# Writing reversals.


# Accrual statuses whose reversal is approved at once: the commission was released
# for payout, so taking it back must reach the next statement without a holding
# period. A reversal of a pending or held accrual waits with it.
RELEASED_STATUSES = (LedgerEntry.Status.APPROVED, LedgerEntry.Status.PAID)


def _reversal_status(accrual: LedgerEntry) -> str:
    if accrual.status in RELEASED_STATUSES:
        return LedgerEntry.Status.APPROVED
    return LedgerEntry.Status.PENDING


def _reversal_entry(*, event, accrual, amount: Decimal, memo: str) -> LedgerEntry:
    return LedgerEntry(
        tenant_id=accrual.tenant_id,
        partner_id=accrual.partner_id,
        deal_id=accrual.deal_id,
        plan_id=accrual.plan_id,
        kind=LedgerEntry.Kind.REVERSAL,
        status=_reversal_status(accrual),
        idempotency_key=reversal_key(event_id=event.pk, kind=event.kind, entry_id=accrual.pk),
        base_amount=_refund_in_entry_currency(event, accrual),
        deal_amount=-event.amount if event.kind == RevenueEvent.Kind.REFUND else None,
        deal_currency=accrual.deal_currency,
        exchange_rate=accrual.exchange_rate,
        rate_source=accrual.rate_source,
        rate_source_detail=accrual.rate_source_detail,
        deal_kind=accrual.deal_kind,
        flat_amount=accrual.flat_amount,
        band_multiplier=accrual.band_multiplier,
        partner_tier_multiplier=accrual.partner_tier_multiplier,
        rate=accrual.rate,
        multiplier=accrual.multiplier,
        partner_segment=accrual.partner_segment,
        segment_multiplier=accrual.segment_multiplier,
        fit_tier=accrual.fit_tier,
        fit_score=accrual.fit_score,
        icp_version_id=accrual.icp_version_id,
        amount=-amount,
        currency=accrual.currency,
        memo=memo[:255],
        reverses=accrual,
        revenue_event=event,
    )


def _deal_amount(accrual: LedgerEntry) -> Decimal:
    """Return the deal amount the accrual was booked on, in the deal's own currency."""
    return accrual.deal_amount if accrual.deal_amount is not None else accrual.base_amount


def _refund_in_entry_currency(event: RevenueEvent, accrual: LedgerEntry) -> Decimal:
    """Return minus the refund in the entry's currency, at the accrual's exchange rate."""
    if event.kind != RevenueEvent.Kind.REFUND:
        return Decimal(0)
    rate = accrual.exchange_rate if accrual.exchange_rate is not None else Decimal(1)
    return -money_round(event.amount * rate, accrual.currency)


def _accrued(accrual: LedgerEntry) -> Decimal:
    """Return the accrual's amount with the adjustments recalculations wrote for it.

    Only recalculation adjustments re-price the accrual itself; other adjustments
    stay as they are when the deal is refunded or churns.
    """
    recalculated = (
        LedgerEntry.objects.filter(
            deal_id=accrual.deal_id,
            kind=LedgerEntry.Kind.ADJUSTMENT,
            idempotency_key__regex=rf"^recalculation:[0-9]+:entry:{accrual.pk}$",
        )
        .exclude(status=LedgerEntry.Status.VOID)
        .aggregate(total=Sum("amount"))["total"]
    )
    return accrual.amount + (recalculated or Decimal(0))


def _remaining(accrual: LedgerEntry, accrued: Decimal) -> Decimal:
    reversed_total = LedgerEntry.objects.filter(reverses=accrual).aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal(0)
    return accrued + reversed_total


def _refund_reversals(event: RevenueEvent, accruals) -> list[LedgerEntry]:
    # Refunds processed before this one. An unprocessed event comes after all of them.
    # A processed event replayed onto a late accrual keeps its place in that order.
    earlier = RevenueEvent.objects.filter(
        kind=RevenueEvent.Kind.REFUND, deal_id=event.deal_id, processed_at__isnull=False
    ).exclude(pk=event.pk)
    if event.processed_at is not None:
        earlier = earlier.filter(
            Q(processed_at__lt=event.processed_at)
            | Q(processed_at=event.processed_at, pk__lt=event.pk)
        )
    refunded_before = earlier.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    entries = []
    for accrual in accruals:
        accrued = _accrued(accrual)
        remaining = _remaining(accrual, accrued)
        churned = _churn_reversed(accrual)
        amount = refund_reversal(
            accrued=accrued,
            remaining=remaining,
            deal_amount=_deal_amount(accrual),
            refunded_before=refunded_before,
            refund=event.amount,
            currency=accrual.currency,
            churned=churned,
        )
        if amount <= 0:
            continue
        deal_amount = _deal_amount(accrual)
        full = refunded_before + event.amount >= deal_amount
        fraction = event.amount / deal_amount
        memo = (
            f"Refund {event.external_id[:40]} of {event.amount} of {deal_amount} "
            f"{accrual.deal_currency or accrual.currency} ({fraction:.2%}) reverses that share "
            f"of accrual #{accrual.pk}, {money_round(accrual.amount, accrual.currency)} "
            f"{accrual.currency}, on its frozen terms"
        )
        if accrued != accrual.amount:
            memo += f" and its recalculation adjustments of {accrued - accrual.amount}"
        if churned:
            memo += "; the account churned, so it takes that share of what the churn left"
        if full:
            memo += "; refunds reach the deal amount, so it takes the rest"
        elif amount == remaining:
            memo += f"; only {remaining.quantize(minor_unit(accrual.currency))} was left"
        entries.append(_reversal_entry(event=event, accrual=accrual, amount=amount, memo=memo))
    return entries


def _churn_reversed(accrual: LedgerEntry) -> bool:
    return LedgerEntry.objects.filter(
        reverses=accrual, idempotency_key__startswith="reversal:churn:"
    ).exists()


def _churn_reversals(event: RevenueEvent, accruals) -> list[LedgerEntry]:
    entries = []
    for accrual in accruals:
        already = _churn_reversed(accrual)
        close_date = accrual.deal.close_date if accrual.deal_id else None
        if close_date is not None and close_date > event.occurred_on:
            # A deal won after the churn date belongs to a later customer relationship.
            continue
        clawback_days = accrual.plan.clawback_days if accrual.plan_id else 0
        if already or close_date is None:
            # NOTE: a deal without a close date has no clawback window to count from,
            # so its churn takes nothing back.
            continue
        days_served = (event.occurred_on - close_date).days
        amount = churn_reversal(
            remaining=_remaining(accrual, _accrued(accrual)),
            clawback_days=clawback_days,
            days_served=days_served,
            currency=accrual.currency,
        )
        if amount <= 0:
            continue
        days_not_served = clawback_days - max(days_served, 0)
        memo = (
            f"Churn {event.external_id[:40]} on {event.occurred_on}: {days_not_served} of "
            f"{clawback_days} clawback days not served since {close_date} reverses "
            f"accrual #{accrual.pk}"
        )
        entries.append(_reversal_entry(event=event, accrual=accrual, amount=amount, memo=memo))
    return entries


def _reversals_emit(tenant_id: int, entries: list[LedgerEntry]) -> None:
    keys = [entry.idempotency_key for entry in entries]
    event_emit(tenant_id, "commission.reversed", partial(ledger_entry_payloads, keys))


def revenue_event_process(*, tenant_id: int, event_id: int) -> int:
    """Write the reversals of one event; return how many were new. Safe to run twice.

    The event row is locked, then the accruals it touches in id order, so two workers
    on the same event, or two events on the same deal, take turns.
    """
    with tenant_scope(tenant_id), transaction.atomic():
        event = RevenueEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None or event.processed_at is not None:
            logger.info(
                "revenue_event.skipped tenant_id=%s event_id=%s reason=%s",
                tenant_id,
                event_id,
                "missing" if event is None else "processed",
            )
            return 0
        accruals = LedgerEntry.objects.select_for_update(of=("self",)).filter(
            kind=LedgerEntry.Kind.ACCRUAL
        )
        if event.kind == RevenueEvent.Kind.REFUND:
            accruals = accruals.filter(deal_id=event.deal_id)
        else:
            accruals = accruals.filter(deal__account_id=event.account_id)
        # A void accrual was never owed, so it gets no reversal.
        accruals = list(
            accruals.exclude(status=LedgerEntry.Status.VOID)
            .select_related("deal", "plan")
            .order_by("pk")
        )
        # An accrual written after this event is caught up by `reversals_catch_up`.
        if event.kind == RevenueEvent.Kind.REFUND:
            entries = _refund_reversals(event, accruals)
        else:
            entries = _churn_reversals(event, accruals)
        before = LedgerEntry.objects.filter(
            idempotency_key__in=[entry.idempotency_key for entry in entries]
        ).count()
        LedgerEntry.objects.bulk_create(entries, ignore_conflicts=True)
        _reversals_emit(tenant_id, entries)
        event.processed_at = timezone.now()
        event.save(update_fields=["processed_at", "updated_at"])
        written = len(entries) - before
    logger.info(
        "revenue_event.processed tenant_id=%s event_id=%s kind=%s reversals=%s",
        tenant_id,
        event_id,
        event.kind,
        written,
    )
    return written


# ----------------------------------------------------------------------------------
# Accruals written after their events.


def reversals_catch_up(*, deal_ids) -> int:
    """Write the reversals that processed events owe accruals booked after them.

    Runs in the transaction that wrote the deals' accruals, in the active tenant's
    scope. Refunds of these deals, and churns of their accounts on or after the deal
    closed, are replayed in the order they were processed. The idempotency keys skip
    reversals already written, so running it twice writes nothing more. Return how
    many reversals were new.
    """
    deal_ids = sorted(set(deal_ids))
    if not deal_ids:
        return 0
    account_ids = set(
        Deal.objects.filter(pk__in=deal_ids, account__isnull=False).values_list(
            "account_id", flat=True
        )
    )
    # Lock the events, processed or not, so an event being processed now is seen
    # either finished here or, once this commits, with these accruals in its query.
    events = list(
        RevenueEvent.objects.select_for_update()
        .filter(
            Q(kind=RevenueEvent.Kind.REFUND, deal_id__in=deal_ids)
            | Q(kind=RevenueEvent.Kind.CHURN, account_id__in=account_ids)
        )
        .order_by("pk")
    )
    events = sorted(
        (event for event in events if event.processed_at is not None),
        key=lambda event: (event.processed_at, event.pk),
    )
    written = 0
    for event in events:
        accruals = (
            LedgerEntry.objects.select_for_update(of=("self",))
            .filter(kind=LedgerEntry.Kind.ACCRUAL, deal_id__in=deal_ids)
            .exclude(status=LedgerEntry.Status.VOID)
            .select_related("deal", "plan")
            .order_by("pk")
        )
        if event.kind == RevenueEvent.Kind.REFUND:
            entries = _refund_reversals(event, accruals.filter(deal_id=event.deal_id))
        else:
            # A deal that closed after the churn date was not churned.
            accruals = [
                accrual
                for accrual in accruals.filter(deal__account_id=event.account_id)
                if accrual.deal.close_date and accrual.deal.close_date <= event.occurred_on
            ]
            entries = _churn_reversals(event, accruals)
        before = LedgerEntry.objects.filter(
            idempotency_key__in=[entry.idempotency_key for entry in entries]
        ).count()
        LedgerEntry.objects.bulk_create(entries, ignore_conflicts=True)
        _reversals_emit(event.tenant_id, entries)
        new = len(entries) - before
        written += new
        if new:
            logger.info(
                "revenue_event.caught_up tenant_id=%s event_id=%s kind=%s reversals=%s",
                event.tenant_id,
                event.pk,
                event.kind,
                new,
            )
    return written


# ----------------------------------------------------------------------------------
# The sweep: events whose task never ran.

# An event this young may still have its task on the way.
SWEEP_GRACE = timedelta(minutes=1)
SWEEP_CHUNK_SIZE = 200


def revenue_events_sweep_tenant(*, tenant_id: int, cutoff=None) -> int:
    """Process one tenant's events left unprocessed since before `cutoff`, in chunks.

    Return how many events this run processed. An event processed meanwhile by its
    own task is skipped by `revenue_event_process`, so a second sweep writes nothing.
    """
    cutoff = cutoff or timezone.now() - SWEEP_GRACE
    processed = 0
    last_id = 0
    logger.info("revenue_event.sweep_started tenant_id=%s", tenant_id)
    while True:
        with tenant_scope(tenant_id):
            ids = list(
                RevenueEvent.objects.filter(
                    processed_at__isnull=True, created_at__lt=cutoff, pk__gt=last_id
                )
                .order_by("pk")
                .values_list("pk", flat=True)[:SWEEP_CHUNK_SIZE]
            )
        if not ids:
            break
        for event_id in ids:
            revenue_event_process(tenant_id=tenant_id, event_id=event_id)
            processed += 1
        last_id = ids[-1]
    logger.info("revenue_event.sweep_finished tenant_id=%s events=%s", tenant_id, processed)
    return processed


def revenue_events_sweep(*, tenant_id: int | None = None) -> int:
    """Process unprocessed events older than a minute for one tenant or every tenant.

    A failing tenant is logged and does not stop the others.
    """
    cutoff = timezone.now() - SWEEP_GRACE
    if tenant_id is not None:
        return revenue_events_sweep_tenant(tenant_id=tenant_id, cutoff=cutoff)
    # NOTE: this cross-tenant read only finds which tenants have work; each is then
    # processed inside its own scope.
    tenant_ids = sorted(
        set(
            RevenueEvent.all_tenants.filter(
                processed_at__isnull=True, created_at__lt=cutoff
            ).values_list("tenant_id", flat=True)
        )
    )
    total = 0
    for each in tenant_ids:
        try:
            total += revenue_events_sweep_tenant(tenant_id=each, cutoff=cutoff)
        except Exception:
            logger.exception("revenue_event.sweep_failed tenant_id=%s", each)
    return total
