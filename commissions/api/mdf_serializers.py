"""Request and response shapes of the MDF endpoints, staff and partner portal."""

from __future__ import annotations

from rest_framework import serializers

from commissions.mdf_models import MdfBudget, MdfClaim, MdfRequest


def _money(help_text: str = "", **kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=2, help_text=help_text, **kwargs)


def _weight(tier: str):
    return serializers.DecimalField(
        max_digits=6,
        decimal_places=3,
        min_value=0,
        required=False,
        help_text=f"Each unit of {tier} won revenue counts this many times in a partner's weight.",
    )


class MdfBudgetInputSerializer(serializers.Serializer):
    period = serializers.CharField(
        max_length=7, help_text="A month as YYYY-MM or a quarter as YYYY-Qn."
    )
    amount = _money("The budget in the tenant's base currency.")
    lookback_months = serializers.IntegerField(
        min_value=1,
        max_value=60,
        required=False,
        help_text="Won deals closed in this many months before the period weight it; 12 "
        "when the budget is new.",
    )
    weight_a = _weight("tier A")
    weight_b = _weight("tier B")
    weight_c = _weight("tier C")
    weight_d = _weight("tier D")
    weight_unscored = _weight("unscored")


class MdfBudgetOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    period = serializers.CharField(source="period_label")
    period_kind = serializers.ChoiceField(choices=MdfBudget.PeriodKind.choices)
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="Last day of the period, inclusive.")
    amount = _money()
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=MdfBudget.Status.choices)
    lookback_months = serializers.IntegerField()
    weight_a = serializers.DecimalField(max_digits=6, decimal_places=3)
    weight_b = serializers.DecimalField(max_digits=6, decimal_places=3)
    weight_c = serializers.DecimalField(max_digits=6, decimal_places=3)
    weight_d = serializers.DecimalField(max_digits=6, decimal_places=3)
    weight_unscored = serializers.DecimalField(max_digits=6, decimal_places=3)
    excluded_deal_count = serializers.IntegerField(
        help_text="Won partner deals of the window left out because their currency is not "
        "the budget's; no exchange rate is applied."
    )
    allocated_at = serializers.DateTimeField(allow_null=True)


class MdfPartnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MdfAllocationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    budget = serializers.IntegerField(source="budget_id")
    period = serializers.CharField(source="budget.period_label")
    currency = serializers.CharField(source="budget.currency")
    partner = MdfPartnerSerializer()
    revenue_a = _money("Won revenue of tier A deals in the window.")
    revenue_b = _money("Won revenue of tier B deals in the window.")
    revenue_c = _money()
    revenue_d = _money()
    revenue_unscored = _money("Won revenue of deals without a frozen fit tier.")
    deal_count = serializers.IntegerField()
    weight = serializers.DecimalField(
        max_digits=24, decimal_places=5, help_text="Σ tier revenue × the budget's tier weight."
    )
    share = serializers.DecimalField(
        max_digits=11, decimal_places=10, help_text="weight / the sum of all weights."
    )
    amount = _money("The allocation: budget × share, rounded so all allocations add up.")
    committed = _money("Approved spend held against the allocation.")
    claimed = _money("Claimed amounts of claims that are not rejected.")
    reimbursed = _money("Reimbursed amounts of claims marked paid.")
    remaining = _money("amount − committed.", source="remaining_amount")


class MdfBudgetDetailSerializer(MdfBudgetOutputSerializer):
    allocations = MdfAllocationOutputSerializer(many=True)


class MdfProofOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="original_name")
    content_type = serializers.CharField()
    size = serializers.IntegerField(help_text="In bytes.")


class MdfClaimOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=MdfClaim.Status.choices)
    claimed_amount = _money()
    reimbursed_amount = _money(allow_null=True)
    notes = serializers.CharField()
    decision_reason = serializers.CharField()
    payment_reference = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)
    reimbursed_at = serializers.DateTimeField(allow_null=True)
    proofs = MdfProofOutputSerializer(many=True, source="proofs.all")


class MdfRequestOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    partner = MdfPartnerSerializer()
    period = serializers.CharField(source="allocation.budget.period_label")
    currency = serializers.CharField(source="allocation.budget.currency")
    idempotency_key = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    activity_type = serializers.ChoiceField(choices=MdfRequest.ActivityType.choices)
    planned_start = serializers.DateField()
    planned_end = serializers.DateField()
    requested_amount = _money()
    approved_amount = _money(allow_null=True)
    committed_amount = _money("What the request holds of the allocation now.")
    status = serializers.ChoiceField(choices=MdfRequest.Status.choices)
    decision_reason = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    claim = serializers.SerializerMethodField()

    def get_claim(self, request) -> MdfClaimOutputSerializer(allow_null=True):
        try:
            claim = request.claim
        except MdfClaim.DoesNotExist:
            return None
        return MdfClaimOutputSerializer(claim).data


class MdfRequestInputSerializer(serializers.Serializer):
    period = serializers.CharField(
        max_length=7, help_text="The budget's period: YYYY-MM or YYYY-Qn."
    )
    idempotency_key = serializers.CharField(
        max_length=100,
        help_text="A unique key per request, such as a UUID; a retry with the same key and "
        "fields returns the first request.",
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, required=False, default="")
    activity_type = serializers.ChoiceField(choices=MdfRequest.ActivityType.choices)
    planned_start = serializers.DateField()
    planned_end = serializers.DateField()
    requested_amount = _money()


class MdfStaffRequestInputSerializer(MdfRequestInputSerializer):
    partner = serializers.IntegerField(min_value=1, help_text="The partner's id.")


class MdfRequestFilterSerializer(serializers.Serializer):
    budget = serializers.IntegerField(min_value=1, required=False, help_text="Budget id.")
    partner = serializers.IntegerField(min_value=1, required=False, help_text="Partner id.")
    status = serializers.ChoiceField(choices=MdfRequest.Status.choices, required=False)


class MdfApproveSerializer(serializers.Serializer):
    approved_amount = _money(
        "Approve this much; the requested amount when left out.", required=False
    )


class MdfReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class MdfAcceptSerializer(serializers.Serializer):
    reimbursed_amount = _money(
        "Reimburse this much; the claimed amount when left out.", required=False
    )


class MdfReimburseSerializer(serializers.Serializer):
    payment_reference = serializers.CharField(max_length=100)


class MdfClaimInputSerializer(serializers.Serializer):
    claimed_amount = _money()
    notes = serializers.CharField(allow_blank=True, required=False, default="")
    files = serializers.ListField(
        child=serializers.FileField(),
        help_text="1 to 10 PDF, PNG or JPEG files of at most 5 MB each (the default limit).",
    )
