"""Split an MDF budget across active partners in proportion to their on-profile wins.

A partner's weight is the revenue of the won deals credited to it in the
look-back window, each frozen fit tier multiplied by the budget's weight of that
tier. The window is the `lookback_months` calendar months before the period
starts, by the deal's close date. Revenue is in the tenant's base currency
(`crm.amounts`); deals in another currency whose exchange rate is missing are
left out and counted.

Each partner gets budget × weight / Σ weights, rounded half up to the currency's
minor unit. When the rounded amounts do not add up to the budget, the missing or
extra minor units go to the partners whose rounding moved them farthest from
their exact share (largest remainder), ties by partner id. So the allocations
always add up to the budget exactly, and each stays within one minor unit of
its exact share.
"""

from __future__ import annotations

import decimal
import logging
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from commissions.mdf_budgets import months_before
from commissions.mdf_models import MdfAllocation, MdfBudget, MdfRequest
from crm.amounts import amount_in_base
from crm.models import Deal
from crm.parsing import currency_exponent
from partners.models import Partner
from tenancy.errors import Conflict, DomainError
from tenancy.services import audit_record

logger = logging.getLogger(__name__)

TIERS = ("A", "B", "C", "D")
# Enough digits that dividing amounts below 10^18 loses nothing at the minor unit.
DIVISION_CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN)


@dataclass
class PartnerResults:
    """A partner's won revenue in the window per frozen fit tier ("" is unscored)."""

    partner_id: int
    revenue: dict[str, Decimal] = field(
        default_factory=lambda: {tier: Decimal(0) for tier in (*TIERS, "")}
    )
    deal_count: int = 0


def split_exactly(total: Decimal, weights: dict[int, Decimal], exponent: int) -> dict[int, Decimal]:
    """Split `total` over the keys of `weights` in proportion, summing exactly to `total`.

    `total` must be a whole number of minor units (10^-exponent) and the weights
    must be zero or more with a positive sum. Returns one amount per key.
    """
    unit = Decimal(1).scaleb(-exponent)
    weight_sum = sum(weights.values(), Decimal(0))
    if weight_sum <= 0:
        raise ValueError("the weights must have a positive sum")
    exact = {
        key: DIVISION_CONTEXT.divide(DIVISION_CONTEXT.multiply(total, weight), weight_sum)
        for key, weight in weights.items()
    }
    rounded = {key: value.quantize(unit, rounding=ROUND_HALF_UP) for key, value in exact.items()}
    missing_units = int((total - sum(rounded.values(), Decimal(0))) / unit)
    if missing_units > 0:
        # Add a unit to those rounded down the most: the largest exact − rounded.
        order = sorted(rounded, key=lambda key: (-(exact[key] - rounded[key]), key))
        for key in order[:missing_units]:
            rounded[key] += unit
    elif missing_units < 0:
        # Take a unit from those rounded up the most: the smallest exact − rounded.
        order = sorted(rounded, key=lambda key: (exact[key] - rounded[key], key))
        for key in order[:-missing_units]:
            rounded[key] -= unit
    return rounded


def partner_results(budget: MdfBudget) -> tuple[dict[int, PartnerResults], int]:
    """Return each active partner's won results in the budget's window, and the excluded count.

    Every active partner is in the result, with zero revenue when it won nothing.
    The count is of won partner deals in the window with no amount in the base
    currency, because the tenant has no exchange rate for their currency and day.
    """
    window_start = months_before(budget.period_start, budget.lookback_months)
    partners = Partner.objects.filter(status=Partner.Status.ACTIVE).values_list("id", flat=True)
    results = {partner_id: PartnerResults(partner_id) for partner_id in partners}
    deals = Deal.objects.filter(
        stage=Deal.Stage.WON,
        partner_id__in=list(results),
        close_date__gte=window_start,
        close_date__lt=budget.period_start,
    )
    deals = deals.annotate(amount_in_base=amount_in_base())
    excluded = deals.filter(amount_in_base__isnull=True).count()
    deals = deals.filter(amount_in_base__isnull=False)
    rows = (
        deals.values_list("partner_id", "won_fit_tier")
        .annotate(revenue=Sum("amount_in_base"))
        .order_by()
    )
    counts = deals.values_list("partner_id").annotate(count=Count("id")).order_by()
    for partner_id, tier, revenue in rows:
        key = tier if tier in TIERS else ""
        results[partner_id].revenue[key] += revenue or Decimal(0)
    for partner_id, count in counts:
        results[partner_id].deal_count = count
    return results, excluded


def partner_weight(budget: MdfBudget, results: PartnerResults) -> Decimal:
    """Return Σ revenue of each tier × the budget's weight of that tier."""
    tier_weights = {
        "A": budget.weight_a,
        "B": budget.weight_b,
        "C": budget.weight_c,
        "D": budget.weight_d,
        "": budget.weight_unscored,
    }
    return sum((results.revenue[tier] * tier_weights[tier] for tier in tier_weights), Decimal(0))


def approved_spend_exists(budget: MdfBudget) -> bool:
    return MdfRequest.objects.filter(
        allocation__budget=budget, approved_amount__isnull=False
    ).exists()


@transaction.atomic
def mdf_allocate(*, budget_id: int, actor=None) -> list[MdfAllocation]:
    """Allocate the budget across active partners and store one row per partner.

    Running it again with the same deals and settings writes the same amounts.
    Concurrent runs wait on the budget row's lock. Once any request of the period
    has been approved, the allocation is fixed and this raises Conflict.
    """
    budget = MdfBudget.objects.select_for_update().get(pk=budget_id)
    logger.info("mdf.allocate_started tenant_id=%s budget_id=%s", budget.tenant_id, budget.pk)
    if approved_spend_exists(budget):
        raise Conflict(
            f"Spend of the MDF budget {budget.period_label} has been approved, so it cannot "
            "be allocated again.",
            field="budget",
            value=budget.pk,
            fix="Keep the current allocation, because approved funds were promised against it.",
        )
    results, excluded = partner_results(budget)
    weights = {partner_id: partner_weight(budget, result) for partner_id, result in results.items()}
    if sum(weights.values(), Decimal(0)) <= 0:
        raise DomainError(
            f"No active partner has weighted won revenue in the {budget.lookback_months} months "
            f"before {budget.period_label}, so the budget has nothing to be split by.",
            field="lookback_months",
            value=budget.lookback_months,
            fix="Lengthen the look-back, raise the tier weights of C, D or unscored deals, "
            "or allocate once partners have won on-profile deals.",
        )
    amounts = split_exactly(budget.amount, weights, currency_exponent(budget.currency))
    weight_sum = sum(weights.values(), Decimal(0))

    existing = {row.partner_id: row for row in MdfAllocation.objects.filter(budget=budget)}
    stored = []
    for partner_id in sorted(results):
        result = results[partner_id]
        values = {
            "revenue_a": result.revenue["A"],
            "revenue_b": result.revenue["B"],
            "revenue_c": result.revenue["C"],
            "revenue_d": result.revenue["D"],
            "revenue_unscored": result.revenue[""],
            "deal_count": result.deal_count,
            "weight": weights[partner_id],
            "share": DIVISION_CONTEXT.divide(weights[partner_id], weight_sum).quantize(
                Decimal("1e-10")
            ),
            "amount": amounts[partner_id],
        }
        row = existing.pop(partner_id, None)
        if row is None:
            row = MdfAllocation.objects.create(
                tenant_id=budget.tenant_id, budget=budget, partner_id=partner_id, **values
            )
        else:
            for key, value in values.items():
                setattr(row, key, value)
            row.save(update_fields=[*values, "updated_at"])
        stored.append(row)
    # Partners no longer active keep a zero row when requests point at it.
    for row in existing.values():
        if row.requests.exists():
            row.amount = Decimal(0)
            row.weight = Decimal(0)
            row.share = Decimal(0)
            row.save(update_fields=["amount", "weight", "share", "updated_at"])
        else:
            row.delete()

    budget.status = MdfBudget.Status.ALLOCATED
    budget.excluded_deal_count = excluded
    budget.allocated_at = timezone.now()
    budget.save(update_fields=["status", "excluded_deal_count", "allocated_at", "updated_at"])
    audit_record(
        tenant_id=budget.tenant_id,
        actor=actor,
        event="mdf.allocated",
        obj=budget,
        after={
            "amount": str(budget.amount),
            "partners": len(stored),
            "excluded_deals": excluded,
            "allocations": {str(row.partner_id): str(row.amount) for row in stored},
        },
    )
    logger.info(
        "mdf.allocate_finished tenant_id=%s budget_id=%s partners=%s excluded_deals=%s",
        budget.tenant_id,
        budget.pk,
        len(stored),
        excluded,
    )
    return stored
