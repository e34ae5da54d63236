"""Commission plans and ledger writes."""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from attribution.fraud.holds import held_deal_ids
from commissions.models import CommissionPlan, LedgerEntry
from crm.parsing import currency_exponent
from tenancy.errors import DomainError
from tenancy.queue import enqueue_on_commit
from tenancy.services import audit_record

logger = logging.getLogger(__name__)

# Bound the largest commission, which the ledger's amount column must hold.
MAX_MULTIPLIER = Decimal(10)
MAX_SEGMENT_MULTIPLIER = Decimal(5)
SEGMENTS = ("strategic", "grow", "nurture", "deprioritise")
PLAN_FIELDS = (
    "name",
    "base_rate",
    "multiplier_a",
    "multiplier_b",
    "multiplier_c",
    "multiplier_d",
    *(f"segment_multiplier_{segment}" for segment in SEGMENTS),
    "clawback_days",
)


def commission_amount(
    *, base_amount: Decimal, rate: Decimal, multiplier: Decimal, currency: str
) -> Decimal:
    """Return base × rate × multiplier rounded half-up to the currency's minor unit."""
    quantum = Decimal(1).scaleb(-currency_exponent(currency))
    return (base_amount * rate * multiplier).quantize(quantum, rounding=ROUND_HALF_UP)


def accrual_key(deal_id: int) -> str:
    """Return the idempotency key of a deal's commission accrual: one per deal."""
    return f"accrual:deal:{deal_id}"


@transaction.atomic
def accruals_write(*, plan: CommissionPlan, deals: list[dict]) -> int:
    """Write one accrual per won, partner-attributed deal; return how many were new.

    Each dict in `deals` has id, partner_id, amount, currency, won_fit_tier,
    won_fit_score and won_fit_version_id. The amount is deal amount × base rate ×
    tier multiplier × segment multiplier, where the segment is the partner's stored
    segment (`partners.segments`) now. Rate, both multipliers, the segment and the
    fit are frozen on the entry. Deals that already have an accrual are skipped by
    the unique key. An accrual that an open fraud signal covers is written held
    instead of pending.
    """
    from partners.segments import partner_segments

    held_ids = held_deal_ids(tenant_id=plan.tenant_id, deals=deals)
    segments = partner_segments(partner_ids={deal["partner_id"] for deal in deals})
    entries = []
    for deal in deals:
        status = LedgerEntry.Status.HELD if deal["id"] in held_ids else LedgerEntry.Status.PENDING
        multiplier = plan.multiplier_for(deal["won_fit_tier"])
        segment = segments.get(deal["partner_id"])
        segment_multiplier = plan.segment_multiplier_for(segment)
        tier = f"fit tier {deal['won_fit_tier']}" if deal["won_fit_tier"] else "an unscored account"
        segment_text = f"the {segment} segment" if segment else "no segment"
        entries.append(
            LedgerEntry(
                tenant_id=plan.tenant_id,
                partner_id=deal["partner_id"],
                deal_id=deal["id"],
                plan=plan,
                kind=LedgerEntry.Kind.ACCRUAL,
                status=status,
                idempotency_key=accrual_key(deal["id"]),
                base_amount=deal["amount"],
                rate=plan.base_rate,
                multiplier=multiplier,
                partner_segment=segment or "",
                segment_multiplier=segment_multiplier,
                fit_tier=deal["won_fit_tier"],
                fit_score=deal["won_fit_score"],
                icp_version_id=deal["won_fit_version_id"],
                amount=commission_amount(
                    base_amount=deal["amount"],
                    rate=plan.base_rate,
                    multiplier=multiplier * segment_multiplier,
                    currency=deal["currency"],
                ),
                currency=deal["currency"],
                memo=f"{plan.base_rate:%} of deal value × {multiplier} for {tier} "
                f"× {segment_multiplier} for {segment_text}",
            )
        )
    before = LedgerEntry.objects.filter(
        idempotency_key__in=[e.idempotency_key for e in entries]
    ).count()
    LedgerEntry.objects.bulk_create(entries, batch_size=2000, ignore_conflicts=True)
    written = len(entries) - before
    if written:
        # Refunds or churns processed before these accruals existed take their share now.
        from commissions.reversals import reversals_catch_up

        reversals_catch_up(deal_ids=[deal["id"] for deal in deals])
    logger.info(
        "ledger.accruals_written tenant_id=%s plan_id=%s new=%s", plan.tenant_id, plan.pk, written
    )
    return written


def _validate_segment_multipliers(values: dict) -> None:
    for segment in SEGMENTS:
        name = f"segment_multiplier_{segment}"
        multiplier = values.get(name)
        if multiplier is None:
            continue
        if not Decimal(0) <= multiplier <= MAX_SEGMENT_MULTIPLIER:
            raise DomainError(
                f"The {segment} segment multiplier {multiplier} is out of range.",
                field=name,
                value=multiplier,
                fix=f"Use a multiplier between 0 and {MAX_SEGMENT_MULTIPLIER}; 1 leaves the "
                "commission as the tier multiplier sets it.",
            )


def _validate_plan_values(values: dict) -> None:
    rate = values.get("base_rate")
    if rate is not None and not (Decimal(0) <= rate <= Decimal(1)):
        raise DomainError(
            f"Base rate {rate} is out of range.",
            field="base_rate",
            value=rate,
            fix="Give the rate as a fraction between 0 and 1, e.g. 0.1 for 10 %.",
        )
    for tier in "abcd":
        multiplier = values.get(f"multiplier_{tier}")
        if multiplier is not None and multiplier > MAX_MULTIPLIER:
            raise DomainError(
                f"Tier {tier.upper()} multiplier {multiplier} is above {MAX_MULTIPLIER}.",
                field=f"multiplier_{tier}",
                value=multiplier,
                fix=f"Use a multiplier between 0 and {MAX_MULTIPLIER}.",
            )
        if multiplier is not None and multiplier < 0:
            raise DomainError(
                f"Tier {tier.upper()} multiplier {multiplier} is negative.",
                field=f"multiplier_{tier}",
                value=multiplier,
                fix="Use 0 to pay nothing for that tier.",
            )


@transaction.atomic
def commission_plan_activate(*, tenant, actor=None, **values) -> CommissionPlan:
    """Create or update the named plan and make it the tenant's only active plan.

    Multipliers left out keep the plan's stored values, or the model defaults for a
    new plan: 1 for every segment, which leaves commissions as the tier multipliers
    set them.
    """
    _validate_plan_values(values)
    _validate_segment_multipliers(values)
    name = values.pop("name")
    plan = CommissionPlan.objects.select_for_update().filter(name=name).first()
    before = {field: str(getattr(plan, field)) for field in PLAN_FIELDS} if plan else None
    CommissionPlan.objects.select_for_update().filter(is_active=True).exclude(name=name).update(
        is_active=False
    )
    if plan is None:
        plan = CommissionPlan(tenant=tenant, name=name)
    for field, value in values.items():
        setattr(plan, field, value)
    plan.is_active = True
    plan.save()
    audit_record(
        tenant_id=tenant.pk,
        actor=actor,
        event="commission_plan.activated",
        obj=plan,
        before=before,
        after={field: str(getattr(plan, field)) for field in PLAN_FIELDS},
    )
    logger.info("commission_plan.activated tenant_id=%s plan_id=%s", tenant.pk, plan.pk)
    # Won deals that waited for a plan are booked once this one is committed.
    from crm.tasks import process_pending_deals_task

    enqueue_on_commit(process_pending_deals_task, tenant.pk)
    return plan
