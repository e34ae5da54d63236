"""Ledger writes: the accrual of each won, partner-attributed deal."""

from __future__ import annotations

import logging
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction

from attribution.fraud.holds import held_deal_ids
from commissions.models import CommissionPlan, LedgerEntry
from commissions.money import money_round
from crm.models import Deal
from partners.models import Partner
from webhooks.events import event_emit
from webhooks.payloads import ledger_entry_payloads

if TYPE_CHECKING:
    from commissions.pricing import DealFacts, OriginalAccrual

logger = logging.getLogger(__name__)


def commission_amount(
    *, base_amount: Decimal, rate: Decimal, multiplier: Decimal, currency: str
) -> Decimal:
    """Return base × rate × multiplier rounded half-up to the currency's minor unit."""
    return money_round(base_amount * rate * multiplier, currency)


def accrual_key(deal_id: int) -> str:
    """Return the idempotency key of a deal's commission accrual: one per deal."""
    return f"accrual:deal:{deal_id}"


@transaction.atomic
def accruals_write(*, plan: CommissionPlan, deals: list[dict]) -> int:
    """Write one accrual per won, partner-attributed deal under `plan`; return how many were new.

    Each dict in `deals` has id, partner_id, amount, currency, won_fit_tier,
    won_fit_score and won_fit_version_id. From the pipeline it also has
    exchange_rate, base_amount and base_currency: the amount converted at the
    tenant's rate for the close date, which the entry is booked in. The deal's
    kind, product, close date and account are read from the database.

    `commissions.pricing.deal_price` prices each deal from the plan's rules, the
    partner's segment and tier now, and, for a renewal or expansion, the
    partner's original accrual on the account. The rate, every multiplier, the
    rate source and the fit are frozen on the entry. With a cap per partner and
    period, the partners' accruals are serialised by an advisory lock and capped
    in close-date order. Deals that already have an accrual are skipped by the
    unique key. An accrual that an open fraud signal covers is written held
    instead of pending.
    """
    from commissions.caps import PartnerCaps
    from commissions.pricing import deal_price

    keys = {accrual_key(deal["id"]) for deal in deals}
    existing = set(
        LedgerEntry.objects.filter(idempotency_key__in=keys).values_list(
            "idempotency_key", flat=True
        )
    )
    deals = [deal for deal in deals if accrual_key(deal["id"]) not in existing]
    if not deals:
        return 0
    facts, partner_names = deal_facts(deals, today=plan.tenant.today())
    held_ids = held_deal_ids(tenant_id=plan.tenant_id, deals=deals)
    rules = list(plan.rules.all())
    caps = PartnerCaps(plan)
    caps.lock(partner_ids={deal["partner_id"] for deal in deals})
    entries = []
    for deal in sorted(deals, key=lambda d: (facts[d["id"]].close_date, d["id"])):
        fact = facts[deal["id"]]
        price = deal_price(plan, rules, fact, partner_name=partner_names[deal["partner_id"]])
        caps.apply(price, fact)
        if deal["currency"] != fact.currency:
            price.steps.insert(
                0,
                f"{deal['amount']} {deal['currency']} × {deal['exchange_rate'].normalize()} "
                f"= {fact.amount} {fact.currency}.",
            )
        status = LedgerEntry.Status.HELD if deal["id"] in held_ids else LedgerEntry.Status.PENDING
        entries.append(
            LedgerEntry(
                tenant_id=plan.tenant_id,
                partner_id=deal["partner_id"],
                deal_id=deal["id"],
                plan=plan,
                kind=LedgerEntry.Kind.ACCRUAL,
                status=status,
                idempotency_key=accrual_key(deal["id"]),
                base_amount=fact.amount,
                deal_amount=deal["amount"],
                deal_currency=deal["currency"],
                exchange_rate=deal.get("exchange_rate"),
                rate=price.rate,
                flat_amount=price.flat_amount,
                multiplier=price.multiplier,
                band_multiplier=price.band_multiplier,
                partner_segment=fact.partner_segment or "",
                segment_multiplier=price.segment_multiplier,
                partner_tier_multiplier=price.partner_tier_multiplier,
                rate_source=price.rate_source,
                rate_source_detail=price.rate_source_detail,
                deal_kind=fact.kind,
                uncapped_amount=price.uncapped_amount,
                original_id=price.original_id,
                fit_tier=deal["won_fit_tier"],
                fit_score=deal["won_fit_score"],
                icp_version_id=deal["won_fit_version_id"],
                amount=price.amount,
                currency=fact.currency,
                memo=" ".join(price.steps)[:255],
            )
        )
    LedgerEntry.objects.bulk_create(entries, batch_size=2000, ignore_conflicts=True)
    # The keys were absent above, so any present now were written by this call or by a
    # concurrent one. The catch-up below is idempotent, so both cases are safe.
    written = LedgerEntry.objects.filter(
        idempotency_key__in=[entry.idempotency_key for entry in entries]
    ).count()
    if written:
        new_keys = [entry.idempotency_key for entry in entries]
        event_emit(plan.tenant_id, "commission.created", partial(ledger_entry_payloads, new_keys))
        # Refunds or churns processed before these accruals existed take their share now.
        from commissions.reversals import reversals_catch_up

        reversals_catch_up(deal_ids=[deal["id"] for deal in deals])
    logger.info(
        "ledger.accruals_written tenant_id=%s plan_id=%s new=%s", plan.tenant_id, plan.pk, written
    )
    return written


def deal_facts(deals: list[dict], *, today) -> tuple[dict[int, DealFacts], dict[int, str]]:
    """Return the pricing facts of each deal by id, and the partners' names by id.

    Each dict has id, partner_id, amount, currency, won_fit_tier and won_fit_score,
    and base_amount and base_currency when the pipeline converted the amount into
    the tenant's base currency, which the deal is then priced in. Kind, product,
    close date and account are read from the deal. The partner's segment and tier
    are those stored now; a renewal or expansion carries the partner's original
    accrual on the account.
    """
    from commissions.pricing import DealFacts
    from partners.segments import partner_segments

    stored = {
        row["id"]: row
        for row in Deal.objects.filter(pk__in=[deal["id"] for deal in deals]).values(
            "id", "kind", "product", "close_date", "account_id"
        )
    }
    partners = {
        row["id"]: row
        for row in Partner.objects.filter(pk__in={deal["partner_id"] for deal in deals}).values(
            "id", "name", "tier"
        )
    }
    segments = partner_segments(partner_ids={deal["partner_id"] for deal in deals})
    originals = original_accruals(
        pairs={
            (stored[deal["id"]]["account_id"], deal["partner_id"])
            for deal in deals
            if stored[deal["id"]]["kind"] != Deal.Kind.NEW
        }
    )
    facts = {}
    for deal in deals:
        row = stored[deal["id"]]
        facts[deal["id"]] = DealFacts(
            amount=deal.get("base_amount", deal["amount"]),
            currency=deal.get("base_currency", deal["currency"]),
            kind=row["kind"],
            product=row["product"],
            partner_id=deal["partner_id"],
            partner_segment=segments.get(deal["partner_id"]),
            partner_tier=partners[deal["partner_id"]]["tier"],
            fit_tier=deal["won_fit_tier"],
            fit_score=deal["won_fit_score"],
            close_date=row["close_date"] or today,
            original=originals.get((row["account_id"], deal["partner_id"])),
        )
    return facts, {pk: row["name"] for pk, row in partners.items()}


def original_accruals(*, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], OriginalAccrual]:
    """Return, per (account id, partner id), the accrual of the partner's first new deal there.

    The first is the earliest close date, then the lowest entry id. Void accruals
    do not count: they were never owed.
    """
    from commissions.pricing import OriginalAccrual

    if not pairs:
        return {}
    accruals = (
        LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.ACCRUAL,
            deal__kind=Deal.Kind.NEW,
            deal__account_id__in={account_id for account_id, _ in pairs},
            partner_id__in={partner_id for _, partner_id in pairs},
        )
        .exclude(status=LedgerEntry.Status.VOID)
        .select_related("deal")
        .order_by("deal__close_date", "id")
    )
    found = {}
    for entry in accruals:
        pair = (entry.deal.account_id, entry.partner_id)
        if pair in pairs and pair not in found:
            found[pair] = OriginalAccrual(
                id=entry.pk,
                close_date=entry.deal.close_date,
                rate=entry.rate,
                flat_amount=entry.flat_amount,
                multiplier=entry.multiplier,
                band_multiplier=entry.band_multiplier,
                segment_multiplier=entry.segment_multiplier,
                partner_tier_multiplier=entry.partner_tier_multiplier,
                partner_segment=entry.partner_segment,
                rate_source_detail=entry.rate_source_detail,
            )
    return found
