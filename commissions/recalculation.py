"""Recalculating booked accruals under a plan's current terms: preview, then apply.

Changing a plan changes only what deals booked from then on pay. A manager who
wants booked accruals to follow the new terms runs a recalculation:

1. `recalculation_preview` re-prices with `commissions.pricing.deal_price` every
   non-void accrual whose deal closed in the range and on a day the plan is in
   force, whichever plan booked it, and stores the accruals whose amount would
   change with a fingerprint of those lines. The preview expires after
   RECALCULATION_TTL.
2. `recalculation_apply` computes the lines again under a lock and writes one
   `adjustment` entry per line for the difference, only when nothing changed
   since the preview. Entries are never edited, so a paid accrual keeps its amount
   and its adjustment reaches the next payout.

An accrual's old amount is the accrual plus the non-void adjustments of the same
deal and partner, so a second recalculation adjusts only what is still different.
Re-pricing uses the facts frozen on the accrual (deal amount, currency, partner
segment, fit tier and score) with the partner's tier now, which entries do not
store. Caps per partner and period count the partner's accruals outside the range
as booked, and the re-priced amounts inside it in close-date order.

Refunds and churns processed after a recalculation reverse a share of the accrual
together with the adjustments recalculations wrote for it (`commissions.reversals`).

NOTE: reversals written before a recalculation are not rescaled. After a refund of
half the deal, raising the accrual from 100 to 200 adjusts it by +100, and the
earlier reversal of -50 stays, so the net is 150 and not 100. The line's
`reversed` column shows such reversals, which a manager corrects by hand.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from commissions.caps import PartnerCaps
from commissions.models import CommissionPlan, LedgerEntry, Recalculation
from commissions.money import minor_unit
from commissions.pricing import RECURRING_KINDS, DealFacts, Price, cap_period_bounds, deal_price
from commissions.reversals import RELEASED_STATUSES
from commissions.services import original_accruals
from tenancy.errors import Conflict, DomainError, NotFound
from tenancy.services import actor_label, actor_user, audit_record

logger = logging.getLogger(__name__)

RECALCULATION_TTL = datetime.timedelta(hours=24)
ZERO = Decimal(0)
# Line fields that the fingerprint covers: what the apply writes, and what it is based on.
FINGERPRINT_FIELDS = ("accrual_id", "old_amount", "reversed", "new_amount", "delta", "rate_source")


def recalculation_key(*, recalculation_id: int, accrual_id: int) -> str:
    """Return the idempotency key of the adjustment one recalculation writes for one accrual."""
    return f"recalculation:{recalculation_id}:entry:{accrual_id}"


def lines_fingerprint(lines: list[dict]) -> str:
    """Return the SHA-256 of the lines' FINGERPRINT_FIELDS, in the lines' order."""
    data = [[line[name] for name in FINGERPRINT_FIELDS] for line in lines]
    return hashlib.sha256(json.dumps(data, separators=(",", ":")).encode()).hexdigest()


def recalculation_get(*, pk: int) -> Recalculation:
    """Return the active tenant's recalculation `pk` with its plan, or raise NotFound."""
    recalculation = (
        Recalculation.objects.select_related("plan", "created_by", "applied_by")
        .filter(pk=pk)
        .first()
    )
    if recalculation is None:
        raise NotFound(
            "No recalculation has this id.",
            field="id",
            value=pk,
            fix="Preview one with POST /api/v1/recalculations/ and use the id it returns.",
        )
    return recalculation


def recalculation_range(
    plan: CommissionPlan, close_from: datetime.date, close_to: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """Return the part of [close_from, close_to] in which `plan` is in force, or raise."""
    if plan.is_draft:
        raise Conflict(
            f"Plan “{plan.name}” is a draft, and a draft pays nothing.",
            field="plan_id",
            value=plan.pk,
            fix="Activate the plan first, or simulate it with "
            "POST /api/v1/commission-plans/{id}/simulate/ to see what it would cost.",
        )
    if close_from > close_to:
        raise DomainError(
            f"close_to {close_to} is before close_from {close_from}.",
            field="close_to",
            value=str(close_to),
            fix="Send a close_to on or after close_from.",
        )
    low = max(close_from, plan.effective_from) if plan.effective_from else close_from
    high = min(close_to, plan.effective_to) if plan.effective_to else close_to
    if low > high:
        raise DomainError(
            f"Plan “{plan.name}” is in force from {plan.effective_from or 'the start'} to "
            f"{plan.effective_to or 'now on'}, which has no day in {close_from} to {close_to}.",
            field="close_from",
            value=str(close_from),
            fix="Choose close dates on which the plan is in force.",
        )
    return low, high


class _RangeCaps(PartnerCaps):
    """Caps that count the partner's booked accruals outside the range, then the new prices."""

    def __init__(self, plan: CommissionPlan, low: datetime.date, high: datetime.date):
        super().__init__(plan)
        self.low, self.high = low, high

    def earned(self, *, partner_id: int, day: datetime.date, currency: str) -> Decimal:
        start, end = cap_period_bounds(self.plan, day)
        key = (partner_id, start, currency)
        if key not in self.used:
            self.used[key] = (
                LedgerEntry.objects.filter(
                    partner_id=partner_id,
                    kind=LedgerEntry.Kind.ACCRUAL,
                    currency=currency,
                    deal__close_date__range=(start, end),
                )
                .exclude(status=LedgerEntry.Status.VOID)
                .exclude(deal__close_date__range=(self.low, self.high))
                .aggregate(total=Sum("amount"))["total"]
                or ZERO
            )
        return self.used[key]


def _accruals(low: datetime.date, high: datetime.date, *, lock: bool) -> list[dict]:
    accruals = LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.ACCRUAL, deal__close_date__range=(low, high)
    ).exclude(status=LedgerEntry.Status.VOID)
    if lock:
        # Reversals lock the accruals they reverse, so none is written while this runs.
        accruals = accruals.select_for_update(of=("self",))
    return list(
        accruals.order_by("deal__close_date", "id").values(
            "id",
            "partner_id",
            "deal_id",
            "status",
            "amount",
            "base_amount",
            "currency",
            "deal_kind",
            "partner_segment",
            "fit_tier",
            "fit_score",
            "icp_version_id",
            "deal__kind",
            "deal__product",
            "deal__close_date",
            "deal__account_id",
            "deal__external_id",
            "partner__name",
            "partner__tier",
        )
    )


def _sums(queryset, key: str) -> dict:
    return {
        row[key]: row["total"]
        for row in queryset.exclude(status=LedgerEntry.Status.VOID)
        .values(key)
        .annotate(total=Sum("amount"))
        .order_by()
    }


def _money(value: Decimal, currency: str) -> str:
    """Return the amount as text with the currency's minor unit, or more places if it has them."""
    unit = minor_unit(currency)
    return str(value.quantize(unit) if value == value.quantize(unit) else value)


def recalculation_compute(
    *, plan: CommissionPlan, low: datetime.date, high: datetime.date, lock: bool = False
) -> list[tuple[dict, dict, Price]]:
    """Re-price the accruals of deals closed in [low, high] under `plan`.

    Return (line, accrual, price) for each accrual whose amount would change, in
    close-date order. `lock` takes the accruals' row locks for the transaction.
    """
    accruals = _accruals(low, high, lock=lock)
    deal_ids = [accrual["deal_id"] for accrual in accruals]
    adjusted = {
        (row["deal_id"], row["partner_id"]): row["total"]
        for row in LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.ADJUSTMENT, deal_id__in=deal_ids
        )
        .exclude(status=LedgerEntry.Status.VOID)
        .values("deal_id", "partner_id")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    reversed_ = _sums(
        LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.REVERSAL,
            reverses_id__in=[accrual["id"] for accrual in accruals],
        ),
        "reverses_id",
    )
    originals = original_accruals(
        pairs={
            (accrual["deal__account_id"], accrual["partner_id"])
            for accrual in accruals
            if (accrual["deal_kind"] or accrual["deal__kind"]) in RECURRING_KINDS
        }
    )
    rules = list(plan.rules.all())
    caps = _RangeCaps(plan, low, high)

    results = []
    for accrual in accruals:
        kind = accrual["deal_kind"] or accrual["deal__kind"]
        facts = DealFacts(
            amount=accrual["base_amount"],
            currency=accrual["currency"],
            kind=kind,
            product=accrual["deal__product"],
            partner_id=accrual["partner_id"],
            partner_segment=accrual["partner_segment"] or None,
            partner_tier=accrual["partner__tier"],
            fit_tier=accrual["fit_tier"],
            fit_score=accrual["fit_score"],
            close_date=accrual["deal__close_date"],
            original=originals.get((accrual["deal__account_id"], accrual["partner_id"])),
        )
        price = deal_price(plan, rules, facts, partner_name=accrual["partner__name"])
        caps.apply(price, facts)
        old = accrual["amount"] + adjusted.get((accrual["deal_id"], accrual["partner_id"]), ZERO)
        delta = price.amount - old
        if delta == 0:
            continue
        line = {
            "accrual_id": accrual["id"],
            "partner_id": accrual["partner_id"],
            "partner_name": accrual["partner__name"],
            "deal_id": accrual["deal_id"],
            "deal_external_id": accrual["deal__external_id"],
            "close_date": str(accrual["deal__close_date"]),
            "currency": accrual["currency"],
            "status": accrual["status"],
            "old_amount": _money(old, accrual["currency"]),
            "reversed": _money(reversed_.get(accrual["id"], ZERO), accrual["currency"]),
            "new_amount": _money(price.amount, accrual["currency"]),
            "delta": _money(delta, accrual["currency"]),
            "rate_source": price.rate_source,
            "rate_source_detail": price.rate_source_detail,
        }
        results.append((line, accrual, price))
    return results


def _totals(lines: list[dict]) -> list[dict]:
    groups: dict[tuple[int, str], dict] = {}
    for line in lines:
        key = (line["partner_id"], line["currency"])
        group = groups.setdefault(
            key,
            {
                "partner_id": line["partner_id"],
                "partner_name": line["partner_name"],
                "currency": line["currency"],
                "accruals": 0,
                "old": ZERO,
                "new": ZERO,
                "delta": ZERO,
            },
        )
        group["accruals"] += 1
        group["old"] += Decimal(line["old_amount"])
        group["new"] += Decimal(line["new_amount"])
        group["delta"] += Decimal(line["delta"])
    rows = sorted(groups.values(), key=lambda row: (row["partner_name"], row["currency"]))
    for row in rows:
        for name in ("old", "new", "delta"):
            row[name] = _money(row[name], row["currency"])
    return rows


@transaction.atomic
def recalculation_preview(
    *,
    tenant,
    plan: CommissionPlan,
    close_from: datetime.date,
    close_to: datetime.date,
    actor=None,
) -> Recalculation:
    """Store which accruals `plan` would change for deals closed in the range, and by how much."""
    low, high = recalculation_range(plan, close_from, close_to)
    logger.info(
        "recalculation.preview_started tenant_id=%s plan_id=%s close_from=%s close_to=%s",
        tenant.pk,
        plan.pk,
        low,
        high,
    )
    lines = [line for line, _, _ in recalculation_compute(plan=plan, low=low, high=high)]
    recalculation = Recalculation.objects.create(
        tenant=tenant,
        plan=plan,
        close_from=low,
        close_to=high,
        lines=lines,
        totals=_totals(lines),
        fingerprint=lines_fingerprint(lines),
        expires_at=timezone.now() + RECALCULATION_TTL,
        created_by=actor_user(actor),
        created_by_label=actor_label(actor),
    )
    audit_record(
        tenant_id=tenant.pk,
        actor=actor,
        event="recalculation.previewed",
        obj=recalculation,
        after={
            "plan_id": plan.pk,
            "close_from": str(low),
            "close_to": str(high),
            "lines": len(lines),
            "fingerprint": recalculation.fingerprint,
        },
    )
    logger.info(
        "recalculation.previewed tenant_id=%s recalculation_id=%s lines=%s",
        tenant.pk,
        recalculation.pk,
        len(lines),
    )
    return recalculation


def _adjustment(recalculation, plan, line: dict, accrual: dict, price: Price, actor):
    status = (
        LedgerEntry.Status.APPROVED
        if accrual["status"] in RELEASED_STATUSES
        else LedgerEntry.Status.PENDING
    )
    memo = (
        f"Recalculation #{recalculation.pk} under plan {plan.name}: was {line['old_amount']}, "
        f"now {line['new_amount']} {line['currency']}"
    )
    return LedgerEntry(
        tenant_id=recalculation.tenant_id,
        partner_id=accrual["partner_id"],
        deal_id=accrual["deal_id"],
        plan=plan,
        kind=LedgerEntry.Kind.ADJUSTMENT,
        status=status,
        idempotency_key=recalculation_key(
            recalculation_id=recalculation.pk, accrual_id=accrual["id"]
        ),
        # The deal's revenue is on the accrual; an adjustment adds none.
        base_amount=ZERO,
        rate=price.rate,
        flat_amount=price.flat_amount,
        multiplier=price.multiplier,
        band_multiplier=price.band_multiplier,
        partner_segment=accrual["partner_segment"],
        segment_multiplier=price.segment_multiplier,
        partner_tier_multiplier=price.partner_tier_multiplier,
        rate_source=price.rate_source,
        rate_source_detail=price.rate_source_detail,
        deal_kind=accrual["deal_kind"],
        original_id=price.original_id,
        fit_tier=accrual["fit_tier"],
        fit_score=accrual["fit_score"],
        icp_version_id=accrual["icp_version_id"],
        amount=Decimal(line["delta"]),
        currency=accrual["currency"],
        memo=memo[:255],
        created_by=actor_user(actor),
    )


def recalculation_apply(*, tenant, recalculation_id: int, actor=None) -> Recalculation:
    """Write the adjustments of a previewed recalculation; applying it again writes nothing.

    Raise Conflict when the recalculation is discarded or expired, or when the
    lines computed now differ from the preview's, such as after a new refund or
    adjustment. Nothing is written then.
    """
    expired = False
    with transaction.atomic():
        recalculation = Recalculation.objects.select_for_update().filter(pk=recalculation_id)
        recalculation = recalculation.first()
        if recalculation is None:
            recalculation_get(pk=recalculation_id)  # raises NotFound
        if recalculation.status == Recalculation.Status.APPLIED:
            logger.info(
                "recalculation.apply_skipped tenant_id=%s recalculation_id=%s reason=applied",
                tenant.pk,
                recalculation.pk,
            )
            return recalculation
        if recalculation.status != Recalculation.Status.PREVIEWED:
            raise Conflict(
                f"Recalculation {recalculation.pk} is {recalculation.status}, so it cannot "
                "be applied.",
                field="status",
                value=recalculation.status,
                fix="Preview the recalculation again with POST /api/v1/recalculations/.",
            )
        if recalculation.expires_at <= timezone.now():
            recalculation.status = Recalculation.Status.EXPIRED
            recalculation.save(update_fields=["status", "updated_at"])
            expired = True
        else:
            _apply_locked(tenant, recalculation, actor)
    if expired:
        logger.info(
            "recalculation.expired tenant_id=%s recalculation_id=%s", tenant.pk, recalculation.pk
        )
        raise Conflict(
            f"Recalculation {recalculation.pk} expired at "
            f"{recalculation.expires_at:%Y-%m-%d %H:%M} UTC; a preview is valid for 24 hours.",
            field="expires_at",
            value=recalculation.expires_at.isoformat(),
            fix="Preview the recalculation again with POST /api/v1/recalculations/.",
        )
    return recalculation


def _apply_locked(tenant, recalculation: Recalculation, actor) -> None:
    plan = CommissionPlan.objects.get(pk=recalculation.plan_id)
    results = recalculation_compute(
        plan=plan, low=recalculation.close_from, high=recalculation.close_to, lock=True
    )
    fingerprint = lines_fingerprint([line for line, _, _ in results])
    if fingerprint != recalculation.fingerprint:
        logger.info(
            "recalculation.apply_rejected tenant_id=%s recalculation_id=%s reason=changed",
            tenant.pk,
            recalculation.pk,
        )
        raise Conflict(
            f"The entries of recalculation {recalculation.pk} changed since it was previewed, "
            "such as by a new refund, reversal, adjustment or accrual, or a changed plan.",
            field="fingerprint",
            value=recalculation.fingerprint,
            fix="Preview the recalculation again with POST /api/v1/recalculations/ and "
            "apply the new preview.",
        )
    entries = [
        _adjustment(recalculation, plan, line, accrual, price, actor)
        for line, accrual, price in results
    ]
    LedgerEntry.objects.bulk_create(entries, batch_size=2000, ignore_conflicts=True)
    recalculation.status = Recalculation.Status.APPLIED
    recalculation.applied_by = actor_user(actor)
    recalculation.applied_at = timezone.now()
    recalculation.save(update_fields=["status", "applied_by", "applied_at", "updated_at"])
    delta = defaultdict(Decimal)
    for entry in entries:
        delta[entry.currency] += entry.amount
    audit_record(
        tenant_id=tenant.pk,
        actor=actor,
        event="recalculation.applied",
        obj=recalculation,
        before={"status": Recalculation.Status.PREVIEWED},
        after={
            "status": recalculation.status,
            "adjustments": len(entries),
            "delta": {currency: str(total) for currency, total in sorted(delta.items())},
        },
    )
    logger.info(
        "recalculation.applied tenant_id=%s recalculation_id=%s adjustments=%s",
        tenant.pk,
        recalculation.pk,
        len(entries),
    )


@transaction.atomic
def recalculation_discard(*, tenant, recalculation_id: int, actor=None) -> Recalculation:
    """Discard a previewed recalculation; discarding it again changes nothing."""
    recalculation = Recalculation.objects.select_for_update().filter(pk=recalculation_id).first()
    if recalculation is None:
        recalculation_get(pk=recalculation_id)  # raises NotFound
    if recalculation.status == Recalculation.Status.DISCARDED:
        return recalculation
    if recalculation.status == Recalculation.Status.APPLIED:
        raise Conflict(
            f"Recalculation {recalculation.pk} is applied; its adjustments are in the ledger.",
            field="status",
            value=recalculation.status,
            fix="Correct the ledger with a new recalculation or a manual adjustment.",
        )
    before = recalculation.status
    recalculation.status = Recalculation.Status.DISCARDED
    recalculation.discarded_at = timezone.now()
    recalculation.save(update_fields=["status", "discarded_at", "updated_at"])
    audit_record(
        tenant_id=tenant.pk,
        actor=actor,
        event="recalculation.discarded",
        obj=recalculation,
        before={"status": before},
        after={"status": recalculation.status},
    )
    logger.info(
        "recalculation.discarded tenant_id=%s recalculation_id=%s", tenant.pk, recalculation.pk
    )
    return recalculation
