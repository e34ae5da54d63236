"""Commission plans: drafts, rules, activation and effective dates.

A plan is a draft until activated. Drafts are edited, previewed and simulated and
pay nothing. Activating a plan makes it the tenant's active plan from its
effective date; the plan it replaces keeps paying deals that closed before that
date. Entries already in the ledger never change when a plan does.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from commissions.models import CapPeriod, CommissionPlan, CommissionRule, PayoutType
from commissions.money import minor_unit
from partners.models import Partner
from tenancy.errors import Conflict, DomainError
from tenancy.queue import enqueue_on_commit
from tenancy.services import audit_record

logger = logging.getLogger(__name__)

# Bound the largest commission, which the ledger's amount column must hold.
MAX_MULTIPLIER = Decimal(10)
MAX_SEGMENT_MULTIPLIER = Decimal(5)
MAX_RULES = 500
MAX_SCORE_BANDS = 10
SEGMENTS = ("strategic", "grow", "nurture", "deprioritise")
PARTNER_TIERS = ("gold", "silver", "bronze")
PLAN_FIELDS = (
    "name",
    "payout_type",
    "base_rate",
    "flat_amount",
    "multiplier_a",
    "multiplier_b",
    "multiplier_c",
    "multiplier_d",
    *(f"segment_multiplier_{segment}" for segment in SEGMENTS),
    "score_bands",
    "partner_tier_multipliers",
    "min_fit_score",
    "recurring_months",
    "recurring_rate_frozen",
    "cap_per_deal",
    "cap_per_partner",
    "cap_period",
    "holding_days",
    "min_payout_amount",
    "clawback_days",
    "effective_from",
    "effective_to",
)


def _snapshot(plan: CommissionPlan | None) -> dict | None:
    if plan is None:
        return None
    values = {field: str(getattr(plan, field)) for field in PLAN_FIELDS}
    values["rules"] = [_rule_snapshot(rule) for rule in plan.rules.order_by("id")]
    return values


def _rule_snapshot(rule: CommissionRule) -> dict:
    return {
        "scope": rule.scope,
        "partner_id": rule.partner_id,
        "value": rule.value,
        "deal_kind": rule.deal_kind,
        "payout_type": rule.payout_type,
        "rate": str(rule.rate) if rule.rate is not None else None,
        "flat_amount": str(rule.flat_amount) if rule.flat_amount is not None else None,
    }


def _range_error(field: str, value, low, high, fix: str = "") -> DomainError:
    return DomainError(
        f"{field} {value} is out of range.",
        field=field,
        value=value,
        fix=fix or f"Use a value between {low} and {high}.",
    )


def _check_range(values: dict, field: str, low, high, fix: str = "") -> None:
    value = values.get(field)
    if value is not None and not low <= value <= high:
        raise _range_error(field, value, low, high, fix)


def plan_values_validate(values: dict, *, currency: str = "") -> None:
    """Raise DomainError, naming the field, for a plan value the ledger cannot honour.

    Amounts must be whole minor units of `currency`, the tenant's base currency.
    """
    _check_range(
        values,
        "base_rate",
        Decimal(0),
        Decimal(1),
        "Give the rate as a fraction between 0 and 1, e.g. 0.1 for 10 %.",
    )
    for tier in "abcd":
        _check_range(
            values,
            f"multiplier_{tier}",
            Decimal(0),
            MAX_MULTIPLIER,
            "Use a multiplier between 0 and 10; 0 pays nothing for that tier.",
        )
    for segment in SEGMENTS:
        _check_range(
            values,
            f"segment_multiplier_{segment}",
            Decimal(0),
            MAX_SEGMENT_MULTIPLIER,
            f"Use a multiplier between 0 and {MAX_SEGMENT_MULTIPLIER}; 1 leaves the "
            "commission as the tier multiplier sets it.",
        )
    _check_range(
        values,
        "min_fit_score",
        0,
        100,
        "Use a fit score between 0 and 100, or leave it out to pay every fit.",
    )
    _check_range(
        values,
        "recurring_months",
        0,
        600,
        "Use 0 to pay new business only, or "
        "leave it out (null) to pay renewals for as long as the account renews.",
    )
    for field in ("flat_amount", "cap_per_deal", "cap_per_partner", "min_payout_amount"):
        _check_range(values, field, Decimal(0), Decimal("999999999999.99"))
        _check_minor_units(values.get(field), field, currency)
    _check_range(values, "holding_days", 0, 3650)
    if len(values.get("score_bands") or []) > MAX_SCORE_BANDS:
        raise DomainError(
            f"A plan has at most {MAX_SCORE_BANDS} score bands.",
            field="score_bands",
            value=len(values["score_bands"]),
            fix="Merge neighbouring bands.",
        )
    if values.get("payout_type", PayoutType.PERCENTAGE) == PayoutType.FLAT and (
        values.get("flat_amount") is None
    ):
        raise DomainError(
            "A flat plan needs the amount it pays per deal.",
            field="flat_amount",
            value=None,
            fix="Send flat_amount in the tenant's base currency, or use payout_type percentage.",
        )
    if values.get("cap_period") is not None and values["cap_period"] not in CapPeriod.values:
        raise DomainError(
            f"Cap period {values['cap_period']!r} is not known.",
            field="cap_period",
            value=values["cap_period"],
            fix=f"Use one of {', '.join(CapPeriod.values)}.",
        )
    _score_bands_validate(values.get("score_bands"))
    _partner_tier_multipliers_validate(values.get("partner_tier_multipliers"))


def _check_minor_units(amount, field: str, currency: str) -> None:
    if amount is None or not currency:
        return
    unit = minor_unit(currency)
    if amount != amount.quantize(unit):
        raise DomainError(
            f"{amount} is not a whole number of {currency} minor units.",
            field=field,
            value=amount,
            fix=f"Plan amounts are in the base currency {currency}: use at most "
            f"{-unit.as_tuple().exponent} decimals.",
        )


def _score_bands_validate(bands) -> None:
    if bands is None:
        return
    seen = set()
    for index, band in enumerate(bands):
        field = f"score_bands[{index}]"
        if not isinstance(band, dict) or set(band) != {"min_score", "multiplier"}:
            raise DomainError(
                "A score band has exactly the keys min_score and multiplier.",
                field=field,
                value=band,
                fix='Send it as {"min_score": 80, "multiplier": "1.20"}.',
            )
        try:
            low = int(band["min_score"])
            multiplier = Decimal(str(band["multiplier"]))
        except (TypeError, ValueError, ArithmeticError):
            raise DomainError(
                "A score band's min_score must be a whole number and its multiplier a number.",
                field=field,
                value=band,
                fix='Send it as {"min_score": 80, "multiplier": "1.20"}.',
            ) from None
        if not 0 <= low <= 100 or str(low) != str(band["min_score"]).strip():
            raise _range_error(f"{field}.min_score", band["min_score"], 0, 100)
        if not multiplier.is_finite() or not Decimal(0) <= multiplier <= MAX_MULTIPLIER:
            raise _range_error(f"{field}.multiplier", band["multiplier"], 0, MAX_MULTIPLIER)
        if multiplier != multiplier.quantize(Decimal("0.01")):
            raise DomainError(
                f"Multiplier {band['multiplier']} has more than 2 decimal places.",
                field=f"{field}.multiplier",
                value=band["multiplier"],
                fix="Round it to 2 decimal places, e.g. 1.25.",
            )
        if low in seen:
            raise DomainError(
                f"Two score bands start at {low}.",
                field=f"{field}.min_score",
                value=low,
                fix="Give each band its own min_score.",
            )
        seen.add(low)


def _partner_tier_multipliers_validate(multipliers) -> None:
    if multipliers is None:
        return
    for tier, value in multipliers.items():
        field = f"partner_tier_multipliers.{tier}"
        if tier not in PARTNER_TIERS:
            raise DomainError(
                f"Partner tier {tier!r} is not known.",
                field=field,
                value=tier,
                fix=f"Use {', '.join(PARTNER_TIERS)}; unranked partners get 1.",
            )
        try:
            multiplier = Decimal(str(value))
        except ArithmeticError:
            multiplier = Decimal("NaN")
        if not multiplier.is_finite() or not Decimal(0) <= multiplier <= MAX_SEGMENT_MULTIPLIER:
            raise _range_error(field, value, 0, MAX_SEGMENT_MULTIPLIER)
        if multiplier != multiplier.quantize(Decimal("0.01")):
            raise DomainError(
                f"Multiplier {value} has more than 2 decimal places.",
                field=field,
                value=value,
                fix="Round it to 2 decimal places, e.g. 1.25.",
            )


def _normalised(values: dict) -> dict:
    """Store band and tier multipliers as strings with 2 decimals, bands by min_score."""
    if values.get("score_bands") is not None:
        values["score_bands"] = sorted(
            (
                {
                    "min_score": int(band["min_score"]),
                    "multiplier": str(Decimal(str(band["multiplier"])).quantize(Decimal("0.01"))),
                }
                for band in values["score_bands"]
            ),
            key=lambda band: band["min_score"],
        )
    if values.get("partner_tier_multipliers") is not None:
        values["partner_tier_multipliers"] = {
            tier: str(Decimal(str(value)).quantize(Decimal("0.01")))
            for tier, value in sorted(values["partner_tier_multipliers"].items())
        }
    return values


def rules_build(*, plan: CommissionPlan, rules: list[dict]) -> list[CommissionRule]:
    """Return unsaved rules of `plan` from their dicts, or raise DomainError naming the rule."""
    if len(rules) > MAX_RULES:
        raise DomainError(
            f"A plan has at most {MAX_RULES} rules; {len(rules)} were sent.",
            field="rules",
            value=len(rules),
            fix="Merge rules, e.g. with a segment or tier rule instead of many partner overrides.",
        )
    partner_ids = {rule.get("partner_id") for rule in rules if rule.get("partner_id")}
    known = set(Partner.objects.filter(pk__in=partner_ids).values_list("pk", flat=True))
    built, seen = [], {}
    for index, data in enumerate(rules):
        rule = _rule_build(plan, data, index, known)
        match = (rule.scope, rule.partner_id, rule.value.casefold(), rule.deal_kind)
        if match in seen:
            raise DomainError(
                f"Rules {seen[match]} and {index} match the same deals.",
                field=f"rules[{index}]",
                value=data,
                fix="Keep one of them, or give them different deal kinds.",
            )
        seen[match] = index
        built.append(rule)
    return built


def _rule_build(plan, data: dict, index: int, known_partners: set[int]) -> CommissionRule:
    field = f"rules[{index}]"
    scope = data.get("scope")
    if scope not in CommissionRule.Scope.values:
        raise DomainError(
            f"Rule scope {scope!r} is not known.",
            field=f"{field}.scope",
            value=scope,
            fix=f"Use one of {', '.join(CommissionRule.Scope.values)}.",
        )
    partner_id = data.get("partner_id")
    value = (data.get("value") or "").strip()
    if scope == CommissionRule.Scope.PARTNER:
        if partner_id not in known_partners:
            raise DomainError(
                f"No partner of this tenant has id {partner_id}.",
                field=f"{field}.partner_id",
                value=partner_id,
                fix="Use an id from GET /api/v1/partners/.",
            )
        value = ""
    elif partner_id is not None:
        raise DomainError(
            "Only a partner override names a partner.",
            field=f"{field}.partner_id",
            value=partner_id,
            fix="Leave partner_id out, or use the scope partner.",
        )
    allowed = {
        CommissionRule.Scope.SEGMENT: SEGMENTS,
        CommissionRule.Scope.PARTNER_TIER: PARTNER_TIERS,
    }.get(scope)
    if allowed is not None and value not in allowed:
        raise DomainError(
            f"{value!r} is not a {scope.replace('_', ' ')}.",
            field=f"{field}.value",
            value=value,
            fix=f"Use one of {', '.join(allowed)}.",
        )
    if scope == CommissionRule.Scope.PRODUCT and not value:
        raise DomainError(
            "A product rule needs the product name it matches.",
            field=f"{field}.value",
            value=value,
            fix="Send the product as deals carry it, e.g. GTX Pro; case does not matter.",
        )
    if scope == CommissionRule.Scope.PROGRAM and value:
        raise DomainError(
            "A program rule matches every deal and takes no value.",
            field=f"{field}.value",
            value=value,
            fix="Leave value out, or use a segment, partner tier or product rule.",
        )
    deal_kind = data.get("deal_kind") or ""
    if deal_kind not in CommissionRule.DealKind.values:
        raise DomainError(
            f"Deal kind {deal_kind!r} is not known.",
            field=f"{field}.deal_kind",
            value=deal_kind,
            fix="Use new, renewal or expansion, or leave it out to match every kind.",
        )
    payout_type = data.get("payout_type") or PayoutType.PERCENTAGE
    rate, flat = data.get("rate"), data.get("flat_amount")
    if payout_type == PayoutType.PERCENTAGE and flat is not None:
        raise DomainError(
            "A percentage rule pays a rate, not a flat amount.",
            field=f"{field}.flat_amount",
            value=flat,
            fix='Leave flat_amount out, or send "payout_type": "flat".',
        )
    if payout_type == PayoutType.FLAT and rate is not None:
        raise DomainError(
            "A flat rule pays a flat amount, not a rate.",
            field=f"{field}.rate",
            value=rate,
            fix='Leave rate out, or send "payout_type": "percentage".',
        )
    if payout_type == PayoutType.PERCENTAGE:
        if rate is None or not Decimal(0) <= rate <= Decimal(1):
            raise DomainError(
                f"A percentage rule needs a rate between 0 and 1; got {rate}.",
                field=f"{field}.rate",
                value=rate,
                fix="Give the rate as a fraction, e.g. 0.15 for 15 %.",
            )
        flat = None
    elif payout_type == PayoutType.FLAT:
        _check_minor_units(flat, f"{field}.flat_amount", plan.tenant.base_currency)
        if flat is None or flat < 0:
            raise DomainError(
                f"A flat rule needs an amount of 0 or more; got {flat}.",
                field=f"{field}.flat_amount",
                value=flat,
                fix="Send flat_amount in the tenant's base currency, e.g. 500.00.",
            )
        rate = None
    else:
        raise DomainError(
            f"Payout type {payout_type!r} is not known.",
            field=f"{field}.payout_type",
            value=payout_type,
            fix="Use percentage or flat.",
        )
    return CommissionRule(
        tenant_id=plan.tenant_id,
        plan=plan,
        scope=scope,
        partner_id=partner_id if scope == CommissionRule.Scope.PARTNER else None,
        value=value,
        deal_kind=deal_kind,
        payout_type=payout_type,
        rate=rate,
        flat_amount=flat,
    )


def _rules_replace(plan: CommissionPlan, rules: list[dict] | None) -> None:
    if rules is None:
        return
    built = rules_build(plan=plan, rules=rules)
    plan.rules.all().delete()
    CommissionRule.objects.bulk_create(built)


def _apply(plan: CommissionPlan, values: dict) -> None:
    for field, value in _normalised(values).items():
        setattr(plan, field, value)


@transaction.atomic
def commission_plan_draft_save(
    *, tenant, actor=None, pk: int | None = None, rules: list[dict] | None = None, **values
) -> CommissionPlan:
    """Create a draft, or update draft `pk`; an activated plan cannot be edited as a draft."""
    plan_values_validate(values, currency=tenant.base_currency)
    if pk is None:
        plan = CommissionPlan(tenant=tenant, is_draft=True, is_active=False)
        before = None
    else:
        plan = CommissionPlan.objects.select_for_update().filter(pk=pk).first()
        if plan is None:
            from commissions.selectors import commission_plan_get

            commission_plan_get(pk=pk)  # raises NotFound
        if not plan.is_draft:
            raise Conflict(
                f"Plan “{plan.name}” is activated, so it is no longer a draft.",
                field="id",
                value=pk,
                fix="Copy it into a new draft with POST /api/v1/commission-plans/{id}/copy/.",
            )
        before = _snapshot(plan)
    name = values.get("name", plan.name)
    if CommissionPlan.objects.filter(name=name).exclude(pk=plan.pk).exists():
        raise Conflict(
            f"Another plan is named “{name}”.",
            field="name",
            value=name,
            fix="Give the draft a name no other plan has.",
        )
    _apply(plan, values)
    _plan_consistency_check(plan)
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:
        # A concurrent request created a plan with this name first.
        logger.info("commission_plan.name_race tenant_id=%s name=%s", tenant.pk, name)
        raise Conflict(
            f"Another plan is named “{name}”.",
            field="name",
            value=name,
            fix="Give the draft a name no other plan has.",
        ) from None
    _rules_replace(plan, rules)
    audit_record(
        tenant_id=tenant.pk,
        actor=actor,
        event="commission_plan.draft_saved",
        obj=plan,
        before=before,
        after=_snapshot(plan),
    )
    logger.info("commission_plan.draft_saved tenant_id=%s plan_id=%s", tenant.pk, plan.pk)
    return plan


@transaction.atomic
def commission_plan_copy(*, tenant, source: CommissionPlan, name: str, actor=None):
    """Copy a plan and its rules into a new draft called `name`."""
    rules = [_rule_snapshot(rule) for rule in source.rules.all()]
    for rule in rules:
        rule["rate"] = Decimal(rule["rate"]) if rule["rate"] is not None else None
        rule["flat_amount"] = (
            Decimal(rule["flat_amount"]) if rule["flat_amount"] is not None else None
        )
    values = {
        field: getattr(source, field)
        for field in PLAN_FIELDS
        if field not in ("name", "effective_from", "effective_to")
    }
    return commission_plan_draft_save(tenant=tenant, actor=actor, name=name, rules=rules, **values)


@transaction.atomic
def commission_plan_draft_delete(*, tenant, plan: CommissionPlan, actor=None) -> None:
    if not plan.is_draft:
        raise Conflict(
            f"Plan “{plan.name}” is activated; ledger entries may point at it.",
            field="id",
            value=plan.pk,
            fix="Activate another plan instead; the ledger keeps every plan that paid.",
        )
    audit_record(
        tenant_id=tenant.pk,
        actor=actor,
        event="commission_plan.draft_deleted",
        obj=plan,
        before=_snapshot(plan),
        after=None,
    )
    plan.delete()


def _plan_consistency_check(plan: CommissionPlan) -> None:
    if plan.payout_type == PayoutType.FLAT and plan.flat_amount is None:
        raise DomainError(
            "A flat plan needs the amount it pays per deal.",
            field="flat_amount",
            value=None,
            fix="Send flat_amount in the tenant's base currency, or use payout_type percentage.",
        )


@transaction.atomic
def commission_plan_activate(
    *,
    tenant,
    actor=None,
    effective_from: datetime.date | None = None,
    rules: list[dict] | None = None,
    **values,
) -> CommissionPlan:
    """Create or update the named plan (a draft included) and make it the active plan.

    Values left out keep the plan's stored values, or the model defaults for a new
    plan. Updating the active plan in place changes what deals booked from now on
    pay; entries already written keep their frozen terms.

    A plan that replaces another starts on `effective_from` (default: today in the
    tenant's time zone), which must be after the replaced plan's start; the
    replaced plan then pays deals that closed before that day. The first plan of a
    tenant starts on `effective_from`, or pays every close date when it is left out.
    """
    plan_values_validate(values, currency=tenant.base_currency)
    name = values.pop("name")
    plans = list(CommissionPlan.objects.select_for_update().order_by("id"))
    plan = next((p for p in plans if p.name == name), None)
    current = next((p for p in plans if p.is_active), None)
    before = _snapshot(plan)
    if plan is not None and plan is current:
        if effective_from is not None and effective_from != plan.effective_from:
            raise Conflict(
                f"Plan “{name}” is already active from {plan.effective_from or 'the start'}.",
                field="effective_from",
                value=effective_from,
                fix="Save the change under a new plan name to start it on another day.",
            )
    else:
        if plan is not None and plan.effective_to is not None:
            raise Conflict(
                f"Plan “{name}” paid deals that closed from {plan.effective_from or 'the start'} "
                f"to {plan.effective_to}; reopening it would leave those days without a plan.",
                field="name",
                value=name,
                fix="Copy it into a new draft under another name, then activate that.",
            )
        start = effective_from
        if current is not None:
            start = effective_from or tenant.today()
            if current.effective_from is not None and start <= current.effective_from:
                raise DomainError(
                    f"The new plan must start after “{current.name}”, which starts on "
                    f"{current.effective_from}.",
                    field="effective_from",
                    value=start,
                    fix=f"Use a day after {current.effective_from}.",
                )
            current.is_active = False
            current.effective_to = start - datetime.timedelta(days=1)
            current.save(update_fields=["is_active", "effective_to", "updated_at"])
        if plan is None:
            plan = CommissionPlan(tenant=tenant, name=name)
        plan.effective_from = start
        plan.effective_to = None
        plan.is_draft = False
        plan.is_active = True
        plan.activated_at = timezone.now()
    _apply(plan, values)
    _plan_consistency_check(plan)
    plan.save()
    _rules_replace(plan, rules)
    audit_record(
        tenant_id=tenant.pk,
        actor=actor,
        event="commission_plan.activated",
        obj=plan,
        before=before,
        after=_snapshot(plan),
    )
    logger.info(
        "commission_plan.activated tenant_id=%s plan_id=%s effective_from=%s",
        tenant.pk,
        plan.pk,
        plan.effective_from,
    )
    # Won deals that waited for a plan are booked once this one is committed.
    from crm.tasks import process_pending_deals_task

    enqueue_on_commit(process_pending_deals_task, tenant.pk)
    return plan
