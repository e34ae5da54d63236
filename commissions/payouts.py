"""Payouts: grouping approved entries per partner and period, approval, payment, export.

`payouts_prepare` builds one payout per partner and currency from the approved
entries not yet in any payout, negative ones included. A total below the plan's
minimum, or below zero, is recorded as carried over and its entries wait for the
next period. A prepared payout needs a second staff member's approval, and
marking it paid moves its entries approved → paid in one transaction.
"""

from __future__ import annotations

import calendar
import csv
import datetime
import io
import logging
import re
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.utils import timezone

from commissions.models import CommissionPlan, LedgerEntry, Payout, PayoutLine
from crm.parsing import currency_exponent
from partners.briefs import csv_cell
from tenancy.errors import Conflict, DomainError
from tenancy.models import Tenant
from tenancy.services import actor_label, actor_user, audit_record
from webhooks.events import event_emit
from webhooks.payloads import payout_payloads

logger = logging.getLogger(__name__)

DEFAULT_MIN_PAYOUT = CommissionPlan._meta.get_field("min_payout_amount").default
PERIOD_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
CSV_HEADER = (
    "partner_external_id",
    "partner_name",
    "currency",
    "amount",
    "entry_count",
    "payout_id",
)


@dataclass(frozen=True)
class Period:
    """A calendar month; `end` is its last day, inclusive."""

    start: datetime.date
    end: datetime.date

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m}"


def period_parse(text: str) -> Period:
    """Return the calendar month named by "YYYY-MM"."""
    match = PERIOD_PATTERN.match(text or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise DomainError(
            f"The period {text!r} is not a calendar month.",
            field="period",
            value=text,
            fix="Send the month as YYYY-MM, such as 2026-11.",
        )
    year, month = int(match.group(1)), int(match.group(2))
    last = calendar.monthrange(year, month)[1]
    return Period(datetime.date(year, month, 1), datetime.date(year, month, last))


def period_previous(tenant: Tenant) -> Period:
    """Return the calendar month before today's in the tenant's time zone."""
    first = tenant.today().replace(day=1)
    return period_parse(f"{first - datetime.timedelta(days=1):%Y-%m}")


def _period_end_instant(tenant: Tenant, period: Period) -> datetime.datetime:
    """Return the first instant after the period in the tenant's time zone."""
    next_day = period.end + datetime.timedelta(days=1)
    return datetime.datetime.combine(
        next_day, datetime.time.min, tzinfo=zoneinfo.ZoneInfo(tenant.time_zone)
    )


def _min_payout(tenant: Tenant) -> Decimal:
    plan = CommissionPlan.objects.filter(is_active=True).first()
    return plan.min_payout_amount if plan else DEFAULT_MIN_PAYOUT


@transaction.atomic
def payouts_prepare(*, tenant: Tenant, period: Period, actor=None) -> list[Payout]:
    """Prepare the period's payouts of the active tenant; return the payouts it added.

    Raises DomainError for a month that has not started. Groups each partner's
    approved entries booked before the period's end (in the
    tenant's time zone) that are in no payout yet, per currency, and sums them
    exactly. Preparing a period again adds nothing for a partner and currency that
    already have a payout or carry-over in it. Concurrent calls wait on a lock of the
    tenant row, so two of them never build the same payout.
    """
    if period.start > tenant.today():
        raise DomainError(
            f"The period {period.label} has not started yet.",
            field="period",
            value=period.label,
            fix=f"Prepare a month up to the current one, {tenant.today():%Y-%m}; a month's "
            "payouts hold the entries approved by its end.",
        )
    Tenant.objects.select_for_update().get(pk=tenant.pk)
    logger.info("payouts.prepare_started tenant_id=%s period=%s", tenant.pk, period.label)
    # NOTE: the minimum is compared with the total in each currency as the same
    # number, without converting it from the tenant's base currency.
    threshold = _min_payout(tenant)
    done = set(
        Payout.objects.filter(period_start=period.start).values_list("partner_id", "currency")
    )
    entries = (
        LedgerEntry.objects.filter(
            status=LedgerEntry.Status.APPROVED,
            payout_line__isnull=True,
            created_at__lt=_period_end_instant(tenant, period),
        )
        .order_by("partner_id", "currency", "id")
        .values_list("id", "partner_id", "currency", "amount")
    )
    groups: dict[tuple[int, str], list[tuple[int, Decimal]]] = {}
    for entry_id, partner_id, currency, amount in entries:
        if (partner_id, currency) in done:
            continue
        groups.setdefault((partner_id, currency), []).append((entry_id, amount))

    added = []
    for (partner_id, currency), rows in groups.items():
        total = sum((amount for _, amount in rows), Decimal(0))
        carried = total < threshold or total < 0
        payout = Payout.objects.create(
            tenant=tenant,
            partner_id=partner_id,
            period_start=period.start,
            period_end=period.end,
            currency=currency,
            status=Payout.Status.CARRIED_OVER if carried else Payout.Status.PREPARED,
            carried_entry_ids=[entry_id for entry_id, _ in rows] if carried else [],
            total=total,
            entry_count=len(rows),
            min_payout_amount=threshold,
            prepared_by=actor_user(actor),
            prepared_by_label=actor_label(actor),
        )
        if not carried:
            PayoutLine.objects.bulk_create(
                PayoutLine(tenant=tenant, payout=payout, entry_id=entry_id) for entry_id, _ in rows
            )
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            event="payout.prepared",
            obj=payout,
            after={"status": payout.status, "total": str(total), "entries": len(rows)},
        )
        logger.info(
            "payouts.prepared tenant_id=%s payout_id=%s partner_id=%s currency=%s status=%s "
            "entries=%s",
            tenant.pk,
            payout.pk,
            partner_id,
            currency,
            payout.status,
            len(rows),
        )
        added.append(payout)
    logger.info(
        "payouts.prepare_finished tenant_id=%s period=%s added=%s",
        tenant.pk,
        period.label,
        len(added),
    )
    return added


def _locked(payout_id: int) -> Payout:
    return Payout.objects.select_for_update().get(pk=payout_id)


@transaction.atomic
def payout_approve(*, payout_id: int, actor) -> Payout:
    """Approve a prepared payout as a second staff member; approving again changes nothing."""
    payout = _locked(payout_id)
    if payout.status == Payout.Status.APPROVED:
        return payout
    if payout.status != Payout.Status.PREPARED:
        raise Conflict(
            f"Payout {payout.pk} is {payout.status}; only prepared payouts can be approved.",
            field="status",
            value=payout.status,
            fix="Approve a payout in the prepared status.",
        )
    user = actor_user(actor)
    if user is None:
        raise Conflict(
            "A payout is approved by a staff member's own login, not an API key.",
            field="approved_by",
            value=actor_label(actor),
            fix="Log in as an admin or partner manager to approve.",
        )
    if user.pk == payout.prepared_by_id:
        raise Conflict(
            f"You prepared payout {payout.pk}, so someone else must approve it.",
            field="approved_by",
            value=user.get_username(),
            fix="Ask another admin or partner manager to approve this payout.",
        )
    payout.status = Payout.Status.APPROVED
    payout.approved_by = user
    payout.approved_at = timezone.now()
    payout.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
    audit_record(
        tenant_id=payout.tenant_id,
        actor=actor,
        event="payout.approved",
        obj=payout,
        before={"status": Payout.Status.PREPARED},
        after={"status": payout.status},
    )
    event_emit(payout.tenant_id, "payout.approved", partial(payout_payloads, [payout.pk]))
    logger.info("payouts.approved tenant_id=%s payout_id=%s", payout.tenant_id, payout.pk)
    return payout


@transaction.atomic
def payout_mark_paid(*, payout_id: int, actor=None) -> Payout:
    """Mark an approved payout paid and move its entries approved → paid; retry-safe."""
    payout = _locked(payout_id)
    if payout.status == Payout.Status.PAID:
        return payout
    if payout.status != Payout.Status.APPROVED:
        raise Conflict(
            f"Payout {payout.pk} is {payout.status}; only approved payouts can be marked paid.",
            field="status",
            value=payout.status,
            fix="Have a second staff member approve the payout first.",
        )
    entry_ids = list(payout.lines.values_list("entry_id", flat=True))
    not_approved = (
        LedgerEntry.objects.select_for_update()
        .filter(id__in=entry_ids)
        .exclude(status=LedgerEntry.Status.APPROVED)
        .values_list("id", "status")
    )
    not_approved = list(not_approved)
    if not_approved:
        entry_id, status = not_approved[0]
        raise Conflict(
            f"Entry {entry_id} of payout {payout.pk} is {status}, so the payout cannot be paid.",
            field="status",
            value=status,
            fix="Resolve the entry's review, then mark the payout paid.",
        )
    moved = LedgerEntry.objects.filter(id__in=entry_ids).update(
        status=LedgerEntry.Status.PAID, updated_at=timezone.now()
    )
    payout.status = Payout.Status.PAID
    payout.paid_at = timezone.now()
    payout.save(update_fields=["status", "paid_at", "updated_at"])
    audit_record(
        tenant_id=payout.tenant_id,
        actor=actor,
        event="payout.paid",
        obj=payout,
        before={"status": Payout.Status.APPROVED},
        after={"status": payout.status, "entries_paid": moved},
    )
    logger.info(
        "payouts.paid tenant_id=%s payout_id=%s entries=%s", payout.tenant_id, payout.pk, moved
    )
    return payout


def payouts_export_csv(*, period: Period) -> str:
    """Return the period's approved and paid payouts as CSV for payment tools."""
    payouts = (
        Payout.objects.filter(
            period_start=period.start,
            status__in=[Payout.Status.APPROVED, Payout.Status.PAID],
        )
        .select_related("partner")
        .order_by("partner__name", "currency", "id")
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for payout in payouts:
        writer.writerow(
            [
                csv_cell(payout.partner.external_id),
                csv_cell(payout.partner.name),
                csv_cell(payout.currency),
                csv_cell(
                    payout.total.quantize(Decimal(1).scaleb(-currency_exponent(payout.currency)))
                ),
                payout.entry_count,
                payout.pk,
            ]
        )
    return buffer.getvalue()
