"""Price one won deal under a commission plan and explain the price.

`deal_price` is a pure function of a plan, its rules and the facts of one deal, so
the pipeline, the preview and the simulator price a deal the same way. The caps
that depend on other entries (per partner and period) are applied by the caller,
which knows what the partner has already earned.

Order of the decision:

1. A renewal or expansion with an original accrual pays only inside the plan's
   recurring window; when the plan freezes recurring rates, it copies the
   original accrual's rate or flat amount and multipliers.
2. Otherwise the rate or flat amount comes from the first matching rule in
   RULE_PRECEDENCE, and the plan's own default when no rule matches.
3. An account below the plan's minimum fit score pays nothing.
4. The amount is rate × deal amount (or the flat amount) × the ICP tier, score
   band, partner segment and partner tier multipliers, rounded half up to the
   currency's minor unit, then lowered to the per-deal cap.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from dateutil.relativedelta import relativedelta

from commissions.models import CommissionPlan, CommissionRule, PayoutType
from commissions.money import minor_unit, money_round

Scope = CommissionRule.Scope
RULE_PRECEDENCE = (Scope.PARTNER, Scope.SEGMENT, Scope.PARTNER_TIER, Scope.PRODUCT, Scope.PROGRAM)
# LedgerEntry.rate_source for the plan's own rate and for a renewal priced as its original.
SOURCE_DEFAULT = "default"
SOURCE_FROZEN = "frozen"
SOURCE_RECURRING_ENDED = "recurring"
RECURRING_KINDS = ("renewal", "expansion")
ONE = Decimal("1.00")

# The words that name the partner's segment in a memo. Partner pages leave the
# name out (commissions.templatetags.partner_memo), because segments are internal.
SEGMENT_MEMO_PATTERN = r"for the [a-z_]+ segment"


@dataclass(frozen=True)
class OriginalAccrual:
    """The accrual of the partner's first deal on the account, which renewals follow."""

    id: int
    close_date: datetime.date | None
    rate: Decimal
    flat_amount: Decimal | None
    multiplier: Decimal
    band_multiplier: Decimal | None
    segment_multiplier: Decimal | None
    partner_tier_multiplier: Decimal | None
    partner_segment: str | None
    rate_source_detail: str


@dataclass(frozen=True)
class DealFacts:
    """The facts of a deal that pricing reads, with its amount in the entry currency."""

    amount: Decimal
    currency: str
    kind: str
    product: str
    partner_id: int
    partner_segment: str | None
    partner_tier: str
    fit_tier: str
    fit_score: int | None
    close_date: datetime.date
    original: OriginalAccrual | None = None


@dataclass
class Price:
    """A priced deal: every factor of its amount, where the rate came from, and why."""

    payout_type: str
    rate: Decimal
    flat_amount: Decimal | None
    multiplier: Decimal
    band_multiplier: Decimal
    segment_multiplier: Decimal
    partner_tier_multiplier: Decimal
    rate_source: str
    rate_source_detail: str
    amount: Decimal
    # The amount before the minimum fit or a cap lowered it; None when nothing did.
    uncapped_amount: Decimal | None = None
    original_id: int | None = None
    steps: list[str] = field(default_factory=list)
    # The currency of `amount`, `flat_amount` and `uncapped_amount`.
    currency: str = ""

    @property
    def percentage_rate(self) -> Decimal | None:
        """The rate of a percentage price; None for a flat one."""
        return None if self.payout_type == PayoutType.FLAT else self.rate

    def cap_to(self, limit: Decimal, reason: str, currency: str) -> None:
        """Lower the amount to `limit` (never below 0), recording the uncapped amount.

        The limit is rounded down to the currency's minor unit, so a cap is never
        exceeded and the amount stays a whole number of minor units.
        """
        limit = max(limit, Decimal(0)).quantize(minor_unit(currency), rounding=ROUND_DOWN)
        if self.amount <= limit:
            return
        if self.uncapped_amount is None:
            self.uncapped_amount = self.amount
        self.amount = limit
        self.steps.append(reason)


def band_multiplier_for(plan: CommissionPlan, fit_score: int | None) -> tuple[Decimal, str]:
    """Return the multiplier of the score band the fit score falls in, and the band's name."""
    if fit_score is None:
        return ONE, "no fit score"
    best = None
    for band in plan.score_bands or []:
        if int(band["min_score"]) <= fit_score and (
            best is None or int(band["min_score"]) > int(best["min_score"])
        ):
            best = band
    if best is None:
        return ONE, f"score {fit_score} is in no band"
    return Decimal(
        str(best["multiplier"])
    ), f"score {fit_score} is in the band from {best['min_score']}"


def partner_tier_multiplier_for(plan: CommissionPlan, tier: str) -> Decimal:
    value = (plan.partner_tier_multipliers or {}).get(tier) if tier else None
    return ONE if value is None else Decimal(str(value))


def _rule_matches(rule: CommissionRule, facts: DealFacts) -> bool:
    if rule.deal_kind and rule.deal_kind != facts.kind:
        return False
    if rule.scope == Scope.PARTNER:
        return rule.partner_id == facts.partner_id
    if rule.scope == Scope.SEGMENT:
        return bool(facts.partner_segment) and rule.value == facts.partner_segment
    if rule.scope == Scope.PARTNER_TIER:
        return bool(facts.partner_tier) and rule.value == facts.partner_tier
    if rule.scope == Scope.PRODUCT:
        return bool(facts.product) and rule.value.casefold() == facts.product.casefold()
    return rule.scope == Scope.PROGRAM


def rule_pick(rules: list[CommissionRule], facts: DealFacts) -> CommissionRule | None:
    """Return the rule that prices the deal: the highest scope, then the exact deal kind."""
    for scope in RULE_PRECEDENCE:
        matching = [rule for rule in rules if rule.scope == scope and _rule_matches(rule, facts)]
        if matching:
            return min(matching, key=lambda rule: 0 if rule.deal_kind else 1)
    return None


def rule_describe(rule: CommissionRule, partner_name: str | None = None) -> str:
    kind = f", {rule.get_deal_kind_display().lower()} deals" if rule.deal_kind else ""
    if rule.scope == Scope.PARTNER:
        target = f" for {partner_name or f'partner {rule.partner_id}'}"
    elif rule.scope == Scope.PROGRAM:
        target = ""
    else:
        target = f" {rule.value}"
    return f"{rule.get_scope_display()}{target}{kind}"


def _pays(payout_type: str, rate: Decimal, flat: Decimal | None) -> str:
    if payout_type == PayoutType.FLAT:
        return f"a flat {flat} per deal"
    return f"{rate * 100:.2f} % of the deal amount"


def deal_price(
    plan: CommissionPlan,
    rules: list[CommissionRule],
    facts: DealFacts,
    *,
    partner_name: str | None = None,
) -> Price:
    """Price one deal under `plan` and `rules` (the plan's rules, loaded by the caller)."""
    original = facts.original if facts.kind in RECURRING_KINDS else None
    if original is not None:
        ended = _recurring_ended(plan, original, facts)
        if ended:
            return _zero(plan, facts, SOURCE_RECURRING_ENDED, ended)
        if plan.recurring_rate_frozen:
            price = _frozen_price(facts, original)
            _cap_per_deal(plan, price, facts)
            return price

    steps = []
    rule = rule_pick(rules, facts)
    if rule is None:
        payout_type, rate, flat = plan.payout_type, plan.base_rate, plan.flat_amount
        source, detail = SOURCE_DEFAULT, f"Program default: {_pays(payout_type, rate, flat)}"
    else:
        payout_type = rule.payout_type
        rate = rule.rate if rule.payout_type == PayoutType.PERCENTAGE else Decimal(0)
        flat = rule.flat_amount if rule.payout_type == PayoutType.FLAT else None
        source = rule.scope
        detail = f"{rule_describe(rule, partner_name)}: {_pays(payout_type, rate, flat)}"
    if payout_type == PayoutType.FLAT:
        rate = Decimal(0)
    steps.append(detail)
    if facts.kind in RECURRING_KINDS and original is None:
        steps.append(
            f"No earlier accrual of this partner on the account, so this {facts.kind} is priced "
            "by the rules like new business."
        )

    multiplier = plan.multiplier_for(facts.fit_tier)
    band, band_text = band_multiplier_for(plan, facts.fit_score)
    segment = plan.segment_multiplier_for(facts.partner_segment)
    partner_tier = partner_tier_multiplier_for(plan, facts.partner_tier)
    tier_text = f"ICP tier {facts.fit_tier}" if facts.fit_tier else "an unscored account"
    steps.append(f"× {multiplier} for {tier_text}")
    if plan.score_bands:
        steps.append(f"× {band} because {band_text}")
    steps.append(
        f"× {segment} for the {facts.partner_segment} segment"
        if facts.partner_segment
        else f"× {segment}: the partner has no segment"
    )
    if plan.partner_tier_multipliers:
        steps.append(f"× {partner_tier} for partner tier {facts.partner_tier or 'unranked'}")
    price = Price(
        payout_type=payout_type,
        rate=rate,
        flat_amount=flat,
        multiplier=multiplier,
        band_multiplier=band,
        segment_multiplier=segment,
        partner_tier_multiplier=partner_tier,
        rate_source=source,
        rate_source_detail=detail[:255],
        amount=_amount(facts, payout_type, rate, flat, multiplier * band * segment * partner_tier),
        steps=steps,
        currency=facts.currency,
    )
    steps.append(f"= {price.amount} {facts.currency}")
    if plan.min_fit_score is not None and (
        facts.fit_score is None or facts.fit_score < plan.min_fit_score
    ):
        price.cap_to(
            Decimal(0),
            f"Pays nothing: fit score {facts.fit_score if facts.fit_score is not None else 'none'} "
            f"is below the plan's minimum of {plan.min_fit_score}.",
            facts.currency,
        )
    _cap_per_deal(plan, price, facts)
    return price


def _amount(facts, payout_type, rate, flat, multipliers: Decimal) -> Decimal:
    if payout_type == PayoutType.FLAT:
        return money_round((flat or Decimal(0)) * multipliers, facts.currency)
    return money_round(facts.amount * rate * multipliers, facts.currency)


def _cap_per_deal(plan: CommissionPlan, price: Price, facts: DealFacts) -> None:
    if plan.cap_per_deal is not None:
        price.cap_to(
            plan.cap_per_deal,
            f"Capped at the plan's {plan.cap_per_deal} {facts.currency} per deal.",
            facts.currency,
        )


def _recurring_ended(plan: CommissionPlan, original: OriginalAccrual, facts: DealFacts) -> str:
    """Return why the plan no longer pays this renewal or expansion, or ""."""
    if plan.recurring_months is None:
        return ""
    if plan.recurring_months == 0:
        return f"Pays nothing: the plan pays new business only, and this deal is a {facts.kind}."
    if original.close_date is None:
        return ""
    end = original.close_date + relativedelta(months=plan.recurring_months)
    if facts.close_date < end:
        return ""
    return (
        f"Pays nothing: the plan pays renewals and expansions for {plan.recurring_months} "
        f"months after the original deal closed on {original.close_date}, that is before "
        f"{end}, and this one closed on {facts.close_date}."
    )


def _frozen_price(facts: DealFacts, original: OriginalAccrual) -> Price:
    multiplier = original.multiplier
    band = original.band_multiplier or ONE
    segment = original.segment_multiplier or ONE
    partner_tier = original.partner_tier_multiplier or ONE
    payout_type = PayoutType.FLAT if original.flat_amount is not None else PayoutType.PERCENTAGE
    detail = (
        f"Rate of accrual #{original.id}, frozen for renewals and expansions: "
        f"{_pays(payout_type, original.rate, original.flat_amount)}"
    )
    amount = _amount(
        facts,
        payout_type,
        original.rate,
        original.flat_amount,
        multiplier * band * segment * partner_tier,
    )
    return Price(
        payout_type=payout_type,
        rate=original.rate,
        flat_amount=original.flat_amount,
        multiplier=multiplier,
        band_multiplier=band,
        segment_multiplier=segment,
        partner_tier_multiplier=partner_tier,
        rate_source=SOURCE_FROZEN,
        rate_source_detail=detail[:255],
        amount=amount,
        original_id=original.id,
        currency=facts.currency,
        steps=[
            detail,
            f"× {multiplier} × {band} × {segment} × {partner_tier}, the original's multipliers",
            f"= {amount} {facts.currency}",
        ],
    )


def _zero(plan: CommissionPlan, facts: DealFacts, source: str, reason: str) -> Price:
    return Price(
        payout_type=plan.payout_type,
        rate=Decimal(0),
        flat_amount=None,
        multiplier=Decimal(0),
        band_multiplier=ONE,
        segment_multiplier=ONE,
        partner_tier_multiplier=ONE,
        rate_source=source,
        rate_source_detail=reason[:255],
        amount=money_round(Decimal(0), facts.currency),
        original_id=facts.original.id if facts.original else None,
        steps=[reason],
        currency=facts.currency,
    )


def cap_period_bounds(
    plan: CommissionPlan, day: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """Return the first and last day of the plan's cap period that contains `day`."""
    if plan.cap_period == "year":
        return datetime.date(day.year, 1, 1), datetime.date(day.year, 12, 31)
    months = 3 if plan.cap_period == "quarter" else 1
    first_month = (day.month - 1) // months * months + 1
    start = datetime.date(day.year, first_month, 1)
    return start, start + relativedelta(months=months, days=-1)
