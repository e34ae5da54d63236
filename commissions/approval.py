"""Approving ledger entries: the holding-period release and managers' approve and void.

An entry moves pending → approved or void, and approved → void while no payout holds
it. Held entries are under fraud review (`attribution.fraud.holds`) and are never
approved here. Every change is a status-only update, which the ledger's
append-only trigger allows.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from commissions.models import CommissionPlan, LedgerEntry
from tenancy.errors import Conflict, DomainError
from tenancy.models import Tenant
from tenancy.scope import tenant_scope
from tenancy.services import audit_record

logger = logging.getLogger(__name__)

DEFAULT_HOLDING_DAYS = CommissionPlan._meta.get_field("holding_days").default
RELEASE_CHUNK_SIZE = 500

Status = LedgerEntry.Status


def _release_candidates(*, plan_id: int | None, cutoff: datetime.date):
    return LedgerEntry.objects.filter(
        plan_id=plan_id,
        kind=LedgerEntry.Kind.ACCRUAL,
        status=Status.PENDING,
        deal__close_date__lte=cutoff,
    )


def entries_release_due(*, tenant: Tenant, today: datetime.date | None = None) -> int:
    """Approve the tenant's pending accruals whose holding period has passed; return how many.

    An accrual is due once its deal's close date plus the plan's holding_days is on
    or before today in the tenant's time zone; accruals without a plan use the
    default. Updates run in chunks and only touch rows still pending, so a repeated
    or overlapping run approves nothing twice and never touches held entries.
    Pending reversals and recalculation adjustments of approved or paid accruals
    are approved in the same run.
    """
    today = today or tenant.today()
    released = 0
    with tenant_scope(tenant):
        holding = {plan.pk: plan.holding_days for plan in CommissionPlan.objects.all()}
        holding[None] = DEFAULT_HOLDING_DAYS
        logger.info("ledger.release_started tenant_id=%s today=%s", tenant.pk, today)
        for plan_id, days in holding.items():
            cutoff = today - datetime.timedelta(days=days)
            while True:
                ids = list(
                    _release_candidates(plan_id=plan_id, cutoff=cutoff)
                    .order_by("id")
                    .values_list("id", flat=True)[:RELEASE_CHUNK_SIZE]
                )
                if not ids:
                    break
                count = LedgerEntry.objects.filter(id__in=ids, status=Status.PENDING).update(
                    status=Status.APPROVED, updated_at=timezone.now()
                )
                released += count
                logger.info(
                    "ledger.release_chunk tenant_id=%s plan_id=%s first_id=%s approved=%s",
                    tenant.pk,
                    plan_id,
                    ids[0],
                    count,
                )
        # A reversal follows the accrual it takes back, so the payout that pays an
        # accrual also deducts its refunds: no holding period of its own.
        follow = LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.REVERSAL,
            status=Status.PENDING,
            reverses__status__in=(Status.APPROVED, Status.PAID),
        ).update(status=Status.APPROVED, updated_at=timezone.now())
        released += follow + _recalculation_adjustments_release()
    logger.info("ledger.release_finished tenant_id=%s approved=%s", tenant.pk, released)
    return released


def _recalculation_adjustments_release() -> int:
    """Approve pending recalculation adjustments whose accrual is approved or paid.

    An adjustment written while its accrual was pending follows the accrual, as a
    reversal does. Its key, `recalculation:<id>:entry:<accrual id>`, names the accrual.
    """
    pending = dict(
        LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.ADJUSTMENT,
            status=Status.PENDING,
            idempotency_key__startswith="recalculation:",
        ).values_list("id", "idempotency_key")
    )
    accrual_ids = {pk: int(key.rsplit(":", 1)[1]) for pk, key in pending.items()}
    released_accruals = set(
        LedgerEntry.objects.filter(
            pk__in=set(accrual_ids.values()), status__in=(Status.APPROVED, Status.PAID)
        ).values_list("id", flat=True)
    )
    due = [pk for pk, accrual_id in accrual_ids.items() if accrual_id in released_accruals]
    return LedgerEntry.objects.filter(id__in=due, status=Status.PENDING).update(
        status=Status.APPROVED, updated_at=timezone.now()
    )


def entries_release_due_all() -> int:
    """Run the holding-period release for every tenant; a failing tenant does not stop others."""
    total = 0
    for tenant in Tenant.objects.order_by("pk"):
        try:
            total += entries_release_due(tenant=tenant)
        except Exception:
            logger.exception("ledger.release_failed tenant_id=%s", tenant.pk)
    return total


TRANSITIONS = {
    Status.PENDING: {Status.APPROVED, Status.VOID},
    Status.APPROVED: {Status.VOID},
}


@transaction.atomic
def entry_status_set(*, entry_id: int, status: str, actor=None) -> LedgerEntry:
    """Approve or void one entry of the active tenant by hand, audited.

    Allowed: pending → approved or void, approved → void while the entry is in no
    payout. Setting the status an entry already has changes nothing, so a retry is safe.
    """
    entry = LedgerEntry.objects.select_for_update().get(pk=entry_id)
    if status not in (Status.APPROVED, Status.VOID):
        raise DomainError(
            f"An entry can be set to approved or void by hand, not {status!r}.",
            field="status",
            value=status,
            fix="Send approved or void.",
        )
    if entry.status == status:
        return entry
    if entry.status == Status.HELD:
        raise Conflict(
            f"Entry {entry.pk} is held for fraud review and cannot be {status} by hand.",
            field="status",
            value=entry.status,
            fix="Dismiss or confirm the fraud signal that covers it first.",
        )
    if status not in TRANSITIONS.get(entry.status, set()):
        raise Conflict(
            f"Entry {entry.pk} is {entry.status} and cannot become {status}.",
            field="status",
            value=entry.status,
            fix="Only pending entries can be approved, and only pending or approved ones voided.",
        )
    if status == Status.VOID and hasattr(entry, "payout_line"):
        raise Conflict(
            f"Entry {entry.pk} is in payout {entry.payout_line.payout_id} and cannot be voided.",
            field="status",
            value=entry.status,
            fix="Write a reversal entry instead; it is settled in the next payout.",
        )
    before = {"status": entry.status}
    entry.status = status
    entry.save(update_fields=["status", "updated_at"])
    audit_record(
        tenant_id=entry.tenant_id,
        actor=actor,
        event=f"ledger.entry_{status}",
        obj=entry,
        before=before,
        after={"status": status},
    )
    logger.info(
        "ledger.entry_status_set tenant_id=%s entry_id=%s from=%s to=%s",
        entry.tenant_id,
        entry.pk,
        before["status"],
        status,
    )
    return entry
