"""Price a deal to show what it would pay, and why, without writing to the ledger.

A preview prices a stored deal, or a deal described in the request, under a
given plan (a draft included) or the plan in force on the deal's close date. It
uses the same facts and pricing as the pipeline (`commissions.services.deal_facts`
and `commissions.pricing.deal_price`), converts a deal in another currency at the
tenant's rate for its close date, and applies the partner's cap as the ledger
stands.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, replace
from decimal import Decimal

from commissions.caps import PartnerCaps
from commissions.fx import ExchangeRateQuote, amount_convert, exchange_rate_for
from commissions.models import CommissionPlan, LedgerEntry
from commissions.pricing import DealFacts, Price, deal_price
from commissions.selectors import commission_plans_activated, plan_in_force
from commissions.services import accrual_key, deal_facts, original_accruals
from crm.domains import normalize_domain
from crm.models import Account, Deal
from partners.models import Partner
from partners.segments import partner_segments
from tenancy.errors import Conflict, DomainError, NotFound

logger = logging.getLogger(__name__)


@dataclass
class Preview:
    plan: CommissionPlan
    facts: DealFacts
    partner: Partner
    price: Price
    deal: Deal | None = None
    # What the ledger booked for the deal, when it did.
    booked: LedgerEntry | None = None
    cap_remaining: Decimal | None = None
    # The conversion into the base currency; rate 1 for a deal in it.
    quote: ExchangeRateQuote | None = None


def _plan_for(plan: CommissionPlan | None, day: datetime.date) -> CommissionPlan:
    if plan is not None:
        return plan
    found = plan_in_force(commission_plans_activated(), day)
    if found is None:
        raise Conflict(
            f"No commission plan is in force on {day}.",
            field="close_date",
            value=day,
            fix="Pass plan_id to preview under a draft, or activate a plan that starts on or "
            "before this day.",
        )
    return found


def deal_preview(*, tenant, deal: Deal, plan: CommissionPlan | None = None) -> Preview:
    """Price a stored deal as the pipeline would, or as `plan` would."""
    if deal.partner_id is None:
        raise DomainError(
            f"Deal {deal.external_id} is credited to no partner, so it pays no commission.",
            field="deal_external_id",
            value=deal.external_id,
            fix="Name a partner on the deal, or preview with partner_id and the deal's values.",
        )
    fit_tier, fit_score = deal.won_fit_tier, deal.won_fit_score
    if not fit_tier and deal.account_id:
        fit_tier, fit_score = deal.account.fit_tier, deal.account.fit_score
    row = {
        "id": deal.pk,
        "partner_id": deal.partner_id,
        "amount": deal.amount,
        "currency": deal.currency,
        "won_fit_tier": fit_tier,
        "won_fit_score": fit_score,
    }
    quote = _quote(tenant, deal.currency, deal.close_date or tenant.today())
    row["base_amount"] = amount_convert(amount=deal.amount, quote=quote)
    row["base_currency"] = quote.base_currency
    facts, names = deal_facts([row], today=tenant.today())
    fact = facts[deal.pk]
    plan = _plan_for(plan, fact.close_date)
    booked = (
        LedgerEntry.objects.filter(idempotency_key=accrual_key(deal.pk))
        .select_related("plan")
        .first()
    )
    preview = _priced(plan, fact, deal.partner, names[deal.partner_id], with_cap=booked is None)
    preview.deal, preview.booked, preview.quote = deal, booked, quote
    return preview


def described_deal_preview(
    *,
    tenant,
    partner_id: int,
    amount: Decimal,
    currency: str = "",
    close_date: datetime.date | None = None,
    kind: str = Deal.Kind.NEW,
    product: str = "",
    account_domain: str = "",
    fit_tier: str = "",
    fit_score: int | None = None,
    plan: CommissionPlan | None = None,
) -> Preview:
    """Price a deal described by its values, for a partner of the tenant."""
    partner = Partner.objects.filter(pk=partner_id).first()
    if partner is None:
        raise NotFound(
            "No partner of this tenant has this id.",
            field="partner_id",
            value=partner_id,
            fix="Use an id from GET /api/v1/partners/.",
        )
    currency = currency or tenant.base_currency
    account = None
    if account_domain:
        account = Account.objects.filter(domain=normalize_domain(account_domain)).first()
        if account is None:
            raise NotFound(
                "No account has this domain.",
                field="account_domain",
                value=account_domain,
                fix="Import the account first, or send fit_tier and fit_score instead.",
            )
        fit_tier, fit_score = account.fit_tier, account.fit_score
    day = close_date or tenant.today()
    original = None
    if kind != Deal.Kind.NEW and account is not None:
        original = original_accruals(pairs={(account.pk, partner.pk)}).get((account.pk, partner.pk))
    quote = _quote(tenant, currency, day)
    fact = DealFacts(
        amount=amount_convert(amount=amount, quote=quote),
        currency=quote.base_currency,
        kind=kind,
        product=product,
        partner_id=partner.pk,
        partner_segment=partner_segments(partner_ids={partner.pk}).get(partner.pk),
        partner_tier=partner.tier,
        fit_tier=fit_tier or "",
        fit_score=fit_score,
        close_date=day,
        original=original,
    )
    preview = _priced(_plan_for(plan, day), fact, partner, partner.name, with_cap=True)
    preview.quote = quote
    return preview


def _quote(tenant, currency: str, day: datetime.date) -> ExchangeRateQuote:
    """Return the rate the pipeline would convert the deal at; raise MissingExchangeRate."""
    return exchange_rate_for(tenant=tenant, currency=currency, on_date=day)


def _priced(plan, fact: DealFacts, partner, partner_name: str, *, with_cap: bool) -> Preview:
    price = deal_price(plan, list(plan.rules.all()), fact, partner_name=partner_name)
    remaining = None
    if with_cap and plan.cap_per_partner is not None:
        caps = PartnerCaps(plan)
        remaining = caps.remaining(
            partner_id=partner.pk, day=fact.close_date, currency=fact.currency
        )
        caps.apply(price, fact)
    logger.info(
        "commission_preview tenant_id=%s plan_id=%s partner_id=%s amount=%s",
        plan.tenant_id,
        plan.pk,
        partner.pk,
        price.amount,
    )
    return Preview(
        plan=plan, facts=replace(fact), partner=partner, price=price, cap_remaining=remaining
    )
