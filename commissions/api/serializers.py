"""Query parameters and response shapes of the commission ledger API."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from commissions.models import LedgerEntry, Payout, RevenueEvent


class LedgerFilterSerializer(serializers.Serializer):
    partner = serializers.IntegerField(min_value=1, required=False, help_text="Partner id.")
    status = serializers.ChoiceField(choices=LedgerEntry.Status.choices, required=False)
    kind = serializers.ChoiceField(choices=LedgerEntry.Kind.choices, required=False)


class LedgerPartnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class LedgerEntryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    partner = LedgerPartnerSerializer()
    deal_external_id = serializers.CharField(source="deal.external_id", allow_null=True)
    kind = serializers.ChoiceField(choices=LedgerEntry.Kind.choices)
    status = serializers.ChoiceField(choices=LedgerEntry.Status.choices)
    idempotency_key = serializers.CharField(
        help_text="Unique per tenant; retrying a write with the same key adds no entry."
    )
    base_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="The deal value the commission is a share of."
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
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text="base_amount × rate × multiplier × segment_multiplier (1 when null), rounded "
        "half up to the currency's minor unit. A reversal's amount is negative and its memo "
        "says which event and fraction it takes back.",
    )
    currency = serializers.CharField()
    memo = serializers.CharField()
    reverses = serializers.IntegerField(
        source="reverses_id",
        allow_null=True,
        help_text="On a reversal, the id of the accrual it takes back; null otherwise.",
    )
    created_at = serializers.DateTimeField()


def _multiplier_field(tier: str):
    return serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(10),
        help_text=f"Multiplier for accounts in ICP tier {tier}; 0 pays nothing.",
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


class CommissionPlanSerializer(serializers.Serializer):
    """The active commission plan; PUT replaces it and keeps booked entries as they are."""

    name = serializers.CharField(max_length=200)
    base_rate = serializers.DecimalField(
        max_digits=6,
        decimal_places=4,
        min_value=Decimal(0),
        max_value=Decimal(1),
        help_text="Fraction of the won deal amount, e.g. 0.1000 for 10 %.",
    )
    multiplier_a = _multiplier_field("A")
    multiplier_b = _multiplier_field("B")
    multiplier_c = _multiplier_field("C")
    multiplier_d = _multiplier_field("D (and unscored accounts)")
    segment_multiplier_strategic = _segment_multiplier_field("strategic")
    segment_multiplier_grow = _segment_multiplier_field("grow")
    segment_multiplier_nurture = _segment_multiplier_field("nurture")
    segment_multiplier_deprioritise = _segment_multiplier_field("deprioritise")
    clawback_days = serializers.IntegerField(
        min_value=0,
        max_value=3650,
        required=False,
        default=90,
        help_text="Days after a deal closes in which churn takes back the unearned part of its "
        "commission; 0 turns clawback off. 90 when left out.",
    )
    updated_at = serializers.DateTimeField(read_only=True)


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
    amount = serializers.DecimalField(max_digits=18, decimal_places=4)
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
    total = serializers.DecimalField(
        max_digits=18, decimal_places=4, help_text="Exact sum of the entries' amounts."
    )
    entry_count = serializers.IntegerField()
    min_payout_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
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
    amount = serializers.DecimalField(max_digits=18, decimal_places=4)
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
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
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


class RevenueEventFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RevenueEvent.Kind.choices, required=False)
