"""Query parameters and response shapes of the commission ledger API."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from commissions.models import (
    CapPeriod,
    CommissionRule,
    LedgerEntry,
    Payout,
    PayoutType,
    RevenueEvent,
)
from tenancy.api.fields import MoneyField
from tenancy.api.listing import DateRangeSerializer, UpdatedSinceSerializer, ordering_field

# Ledger entries and revenue events sort by creation time or id.
CREATED_ORDERINGS = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "-updated_at": ("-updated_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-id": ("-id",),
    "id": ("id",),
}


class LedgerFilterSerializer(DateRangeSerializer, UpdatedSinceSerializer):
    date_range_prefix = "created"
    date_range_label = "creation date (UTC)"

    partner = serializers.IntegerField(min_value=1, required=False, help_text="Partner id.")
    status = serializers.ChoiceField(choices=LedgerEntry.Status.choices, required=False)
    kind = serializers.ChoiceField(choices=LedgerEntry.Kind.choices, required=False)
    ordering = ordering_field(CREATED_ORDERINGS, "-created_at")


class LedgerCorrectionInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[("adjustment", "Adjustment"), ("bonus", "Bonus")],
        help_text="adjustment corrects an amount (negative takes money back); bonus pays a "
        "reward outside the plan.",
    )
    partner_id = serializers.IntegerField(min_value=1)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=4, help_text="Non-zero, in whole minor units of currency."
    )
    currency = serializers.CharField(
        max_length=3, required=False, allow_blank=True, default="", help_text="Default: base."
    )
    memo = serializers.CharField(max_length=255, help_text="Why the entry is added.")
    idempotency_key = serializers.CharField(
        max_length=100,
        help_text="Your key for this entry; resending it with the same values returns the "
        "entry (200), with other values 409.",
    )
    deal_external_id = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="",
        help_text="The partner's deal the entry belongs to, if any.",
    )  # fmt: skip


class LedgerPartnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class LedgerPlanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class LedgerEntryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    partner = LedgerPartnerSerializer()
    plan = LedgerPlanSerializer(
        allow_null=True, help_text="The plan that priced the entry; null on manual entries."
    )
    deal_external_id = serializers.CharField(source="deal.external_id", allow_null=True)
    kind = serializers.ChoiceField(choices=LedgerEntry.Kind.choices)
    status = serializers.ChoiceField(choices=LedgerEntry.Status.choices)
    idempotency_key = serializers.CharField(
        help_text="Unique per tenant; retrying a write with the same key adds no entry."
    )
    base_amount = MoneyField(
        currency_path="currency", help_text="The deal value the commission is a share of."
    )
    rate = serializers.DecimalField(
        max_digits=6, decimal_places=4, help_text="The plan's base rate, such as 0.1000 for 10%."
    )
    multiplier = serializers.DecimalField(
        max_digits=5, decimal_places=2, help_text="The plan's multiplier for fit_tier."
    )
    partner_segment = serializers.CharField(
        allow_null=True,
        help_text="The partner's segment when the entry was booked, empty when it had none; "
        "null on entries booked before segments existed.",
    )
    segment_multiplier = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        allow_null=True,
        help_text="The plan's multiplier for partner_segment; null on entries booked before "
        "segments existed, which used 1.",
    )
    fit_tier = serializers.CharField(help_text="Account fit tier when the deal was won.")
    fit_score = serializers.IntegerField(allow_null=True)
    icp_version_number = serializers.IntegerField(
        source="icp_version.number",
        allow_null=True,
        help_text="Number of the ICP version that scored the account.",
    )
    amount = MoneyField(
        currency_path="currency",
        help_text="base_amount × rate (or flat_amount) × multiplier × band_multiplier × "
        "segment_multiplier × partner_tier_multiplier (1 when null), rounded half up to the "
        "currency's minor unit, then capped. A reversal's amount is negative and its memo "
        "says which event and fraction it takes back.",
    )
    currency = serializers.CharField()
    memo = serializers.CharField()
    reverses = serializers.IntegerField(
        source="reverses_id",
        allow_null=True,
        help_text="On a reversal, the id of the accrual it takes back; null otherwise.",
    )
    rate_source = serializers.CharField(
        help_text="What priced the entry: partner, segment, partner_tier, product or program (a "
        "rule), default (the plan's own rate), frozen (a renewal at its original accrual's "
        "terms) or recurring (past the plan's recurring window). Empty on older entries."
    )
    rate_source_detail = serializers.CharField(help_text="The rate source in words.")
    deal_kind = serializers.CharField(
        help_text="new, renewal or expansion; empty on older entries."
    )
    flat_amount = MoneyField(
        currency_path="currency",
        allow_null=True,
        help_text="A flat entry's amount per deal before multipliers; null on percentage entries.",
    )
    band_multiplier = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    partner_tier_multiplier = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True
    )
    uncapped_amount = MoneyField(
        currency_path="currency",
        allow_null=True,
        help_text="The amount before a cap or the plan's minimum fit lowered it; null otherwise.",
    )
    deal_amount = MoneyField(
        currency_path="deal_currency",
        fallback_path="currency",
        allow_null=True,
        help_text="The deal's amount in its own currency; null on entries booked before "
        "conversion existed.",
    )
    deal_currency = serializers.CharField()
    exchange_rate = serializers.DecimalField(
        max_digits=18,
        decimal_places=8,
        allow_null=True,
        help_text="Units of `currency` per unit of `deal_currency` that converted the deal.",
    )
    original = serializers.IntegerField(
        source="original_id",
        allow_null=True,
        help_text="On a renewal or expansion, the accrual it was priced from.",
    )
    created_at = serializers.DateTimeField()


def _multiplier_field(tier: str, **kwargs):
    return serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(10),
        help_text=f"Multiplier for accounts in ICP tier {tier}; 0 pays nothing.",
        **kwargs,
    )


def _segment_multiplier_field(segment: str):
    return serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(5),
        required=False,
        default=Decimal("1.00"),
        help_text=f"Multiplier for partners in the {segment} segment, applied on top of the "
        "tier multiplier; 1 (the default when left out) changes nothing.",
    )


class CommissionRuleSerializer(serializers.Serializer):
    """A rule that replaces the plan's default rate or flat amount for some deals."""

    scope = serializers.ChoiceField(
        choices=CommissionRule.Scope.choices,
        help_text="partner, segment, partner_tier, product or program. Precedence, highest "
        "first: partner, segment, partner_tier, product, program, then the plan's default.",
    )
    partner_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The partner of a partner override.",
    )
    partner_name = serializers.CharField(source="partner.name", read_only=True, allow_null=True)
    value = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="The segment (strategic, grow, nurture, deprioritise), partner tier (gold, "
        "silver, bronze) or product name the rule matches; empty for partner and program rules.",
    )
    deal_kind = serializers.ChoiceField(
        choices=CommissionRule.DealKind.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="new, renewal or expansion; empty matches every kind. Within one scope a rule "
        "for the deal's kind beats one for every kind.",
    )
    payout_type = serializers.ChoiceField(choices=PayoutType.choices, default=PayoutType.PERCENTAGE)
    rate = serializers.DecimalField(
        max_digits=6,
        decimal_places=4,
        required=False,
        allow_null=True,
        default=None,
        help_text="Fraction of the deal amount for a percentage rule, e.g. 0.1500.",
    )
    flat_amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text="Amount per deal for a flat rule, in the tenant's base currency.",
    )


class ScoreBandSerializer(serializers.Serializer):
    min_score = serializers.IntegerField(min_value=0, max_value=100)
    multiplier = serializers.DecimalField(
        max_digits=4, decimal_places=2, min_value=Decimal(0), max_value=Decimal(10)
    )


class CommissionPlanSerializer(serializers.Serializer):
    """A commission plan with its rules; booked entries keep the terms they were booked with."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    is_active = serializers.BooleanField(read_only=True)
    is_draft = serializers.BooleanField(read_only=True)
    effective_from = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="First close date the plan pays. When it replaces the active plan: default "
        "today in the tenant's time zone, and it must be after the active plan's start. A "
        "tenant's first plan pays every close date when it is left out.",
    )
    effective_to = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="Last close date the plan pays, set when a later plan replaced it.",
    )
    activated_at = serializers.DateTimeField(read_only=True, allow_null=True)
    payout_type = serializers.ChoiceField(
        choices=PayoutType.choices,
        default=PayoutType.PERCENTAGE,
        help_text="percentage pays base_rate of the deal amount; flat pays flat_amount per deal.",
    )
    base_rate = serializers.DecimalField(
        max_digits=6,
        decimal_places=4,
        min_value=Decimal(0),
        max_value=Decimal(1),
        help_text="Fraction of the won deal amount, e.g. 0.1000 for 10 %.",
    )
    flat_amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        allow_null=True,
        default=None,
        help_text="What a flat plan pays per deal before multipliers, in the base currency.",
    )
    multiplier_a = _multiplier_field("A")
    multiplier_b = _multiplier_field("B")
    multiplier_c = _multiplier_field("C")
    multiplier_d = _multiplier_field("D (and unscored accounts)")
    segment_multiplier_strategic = _segment_multiplier_field("strategic")
    segment_multiplier_grow = _segment_multiplier_field("grow")
    segment_multiplier_nurture = _segment_multiplier_field("nurture")
    segment_multiplier_deprioritise = _segment_multiplier_field("deprioritise")
    score_bands = ScoreBandSerializer(
        many=True,
        required=False,
        default=list,
        help_text="Multipliers by fit score: the band with the highest min_score at or below "
        "the deal's score applies; no band gives 1.",
    )
    partner_tier_multipliers = serializers.DictField(
        child=serializers.DecimalField(
            max_digits=3, decimal_places=2, min_value=Decimal(0), max_value=Decimal(5)
        ),
        required=False,
        default=dict,
        help_text='Multipliers by partner tier, e.g. {"gold": "1.20"}; a tier left out gives 1.',
    )
    min_fit_score = serializers.IntegerField(
        min_value=0,
        max_value=100,
        required=False,
        allow_null=True,
        default=None,
        help_text="Deals of accounts scoring below this pay nothing; null pays every fit.",
    )
    recurring_months = serializers.IntegerField(
        min_value=0,
        max_value=600,
        required=False,
        allow_null=True,
        default=12,
        help_text="Months after the original deal's close date in which renewals and "
        "expansions pay; null pays for as long as the account renews, 0 pays new business only.",
    )
    recurring_rate_frozen = serializers.BooleanField(
        required=False,
        default=True,
        help_text="true: renewals and expansions pay the original accrual's rate and "
        "multipliers; false: they are priced by the plan's rules when booked.",
    )
    cap_per_deal = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        allow_null=True,
        default=None,
        help_text="Most one deal's accrual pays; null is no cap.",
    )
    cap_per_partner = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        allow_null=True,
        default=None,
        help_text="Most a partner's accruals pay for deals closed in one cap_period; null is "
        "no cap.",
    )
    cap_period = serializers.ChoiceField(
        choices=CapPeriod.choices, required=False, default=CapPeriod.MONTH
    )
    clawback_days = serializers.IntegerField(
        min_value=0,
        max_value=3650,
        required=False,
        default=90,
        help_text="Days after a deal closes in which churn takes back the unearned part of its "
        "commission; 0 turns clawback off. 90 when left out.",
    )
    holding_days = serializers.IntegerField(
        min_value=0,
        max_value=3650,
        required=False,
        default=30,
        help_text="Days after a deal's close date before its accrual is approved for payout. "
        "30 when left out.",
    )
    min_payout_amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        default=Decimal("50.00"),
        help_text="A partner's payout below this is carried over to the next month. 50.00 "
        "when left out.",
    )
    rules = CommissionRuleSerializer(
        many=True,
        required=False,
        default=list,
        help_text="The plan's rules; a write replaces them all.",
    )
    updated_at = serializers.DateTimeField(read_only=True)

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        if unknown:
            raise serializers.ValidationError(
                {unknown[0]: [f"Unknown field; the plan's fields are {', '.join(self.fields)}."]}
            )
        return super().to_internal_value(data)


class CommissionPlanDraftSerializer(CommissionPlanSerializer):
    """A draft's terms: it pays nothing and has no effective dates until activated.

    Terms left out take the defaults of a new plan: 10 %, tier multipliers 1.50,
    1.00, 0.50 and 0.00.
    """

    effective_from = None
    base_rate = serializers.DecimalField(
        max_digits=6,
        decimal_places=4,
        min_value=Decimal(0),
        max_value=Decimal(1),
        required=False,
        default=Decimal("0.1000"),
        help_text="Fraction of the won deal amount, e.g. 0.1000 for 10 %; 0.1000 when left out.",
    )
    multiplier_a = _multiplier_field("A", required=False, default=Decimal("1.50"))
    multiplier_b = _multiplier_field("B", required=False, default=Decimal("1.00"))
    multiplier_c = _multiplier_field("C", required=False, default=Decimal("0.50"))
    multiplier_d = _multiplier_field(
        "D (and unscored accounts)", required=False, default=Decimal("0.00")
    )


class PlanActivateSerializer(serializers.Serializer):
    effective_from = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="First close date the plan pays; default today in the tenant's time zone.",
    )


class PlanCopySerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text="The new draft's name.")


class PayoutFilterSerializer(serializers.Serializer):
    period = serializers.RegexField(
        r"^\d{4}-\d{2}$", required=False, help_text="Calendar month as YYYY-MM."
    )
    status = serializers.ChoiceField(choices=Payout.Status.choices, required=False)
    partner = serializers.IntegerField(min_value=1, required=False, help_text="Partner id.")


class PeriodSerializer(serializers.Serializer):
    period = serializers.RegexField(
        r"^\d{4}-\d{2}$",
        help_text="Calendar month as YYYY-MM, in the tenant's time zone.",
        error_messages={"invalid": "Send the month as YYYY-MM, such as 2026-11."},
    )


class PayoutPartnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    name = serializers.CharField()


class PayoutEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=LedgerEntry.Kind.choices)
    status = serializers.ChoiceField(choices=LedgerEntry.Status.choices)
    deal_external_id = serializers.CharField(source="deal.external_id", allow_null=True)
    rate = serializers.DecimalField(max_digits=6, decimal_places=4)
    fit_tier = serializers.CharField()
    amount = MoneyField(currency_path="currency")
    memo = serializers.CharField()
    created_at = serializers.DateTimeField()


class PayoutOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    partner = PayoutPartnerSerializer()
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="Last day of the period, inclusive.")
    currency = serializers.CharField()
    status = serializers.ChoiceField(
        choices=Payout.Status.choices,
        help_text="carried_over: the total was below min_payout_amount or negative, so "
        "nothing is paid and the entries join the next period's payout.",
    )
    total = MoneyField(currency_path="currency", help_text="Exact sum of the entries' amounts.")
    entry_count = serializers.IntegerField()
    min_payout_amount = MoneyField(currency_path="currency")
    prepared_by = serializers.CharField(source="prepared_by.username", allow_null=True)
    approved_by = serializers.CharField(source="approved_by.username", allow_null=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class PayoutDetailSerializer(PayoutOutputSerializer):
    entries = PayoutEntrySerializer(many=True)


class RevenueEventInputSerializer(serializers.Serializer):
    """A refund of a won deal or the churn of an account."""

    external_id = serializers.CharField(
        max_length=100, help_text="Your id of the event, unique per tenant; resending is a no-op."
    )
    kind = serializers.ChoiceField(choices=RevenueEvent.Kind.choices)
    occurred_on = serializers.DateField(help_text="The day of the refund or churn.")
    deal_external_id = serializers.CharField(
        max_length=100, required=False, help_text="The refunded won deal; refunds only."
    )
    account_external_id = serializers.CharField(
        max_length=100, required=False, help_text="The account that churned; churn only."
    )
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text="The refunded amount in the deal's currency, at most the deal amount; "
        "refunds only.",
    )
    currency = serializers.CharField(
        max_length=3, required=False, help_text="The deal's currency; checked when sent."
    )


class ReversalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reverses = serializers.IntegerField(source="reverses_id", help_text="The accrual's id.")
    amount = MoneyField(currency_path="currency")
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=LedgerEntry.Status.choices)
    memo = serializers.CharField()


class RevenueEventOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    kind = serializers.ChoiceField(choices=RevenueEvent.Kind.choices)
    occurred_on = serializers.DateField()
    deal_external_id = serializers.CharField(source="deal.external_id", allow_null=True)
    account_external_id = serializers.CharField(source="account.external_id", allow_null=True)
    amount = MoneyField(currency_path="currency", fallback_path="deal.currency", allow_null=True)
    currency = serializers.CharField()
    processed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the reversals were written; null until then."
    )
    reversals = ReversalSerializer(
        source="ledger_entries",
        many=True,
        help_text="The ledger entries this event wrote, one per accrual it reverses.",
    )
    created_at = serializers.DateTimeField()


class RevenueEventFilterSerializer(DateRangeSerializer, UpdatedSinceSerializer):
    date_range_prefix = "occurred"
    date_range_label = "refund or churn date"

    kind = serializers.ChoiceField(choices=RevenueEvent.Kind.choices, required=False)
    ordering = ordering_field(CREATED_ORDERINGS, "-created_at")
