"""API view of plan simulation: what a plan would have paid for recent won deals."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from commissions.selectors import commission_plan_get
from commissions.simulation import MAX_MONTHS, MIN_MONTHS, plan_simulate
from tenancy.api.permissions import IsTenantReader
from tenancy.api.views import DETAIL_ERRORS, TenantApiView, error_response


class MoneyField(serializers.CharField):
    """An exact decimal amount as a string, such as "1234.50"."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, **kwargs)


class SimulationInputSerializer(serializers.Serializer):
    months = serializers.IntegerField(
        min_value=MIN_MONTHS,
        max_value=MAX_MONTHS,
        default=12,
        help_text="Replay the deals that closed in this many months up to `until`.",
    )
    until = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Last close date of the window; default today in the tenant's time zone.",
    )


class PlanRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    is_draft = serializers.BooleanField()


class CostRowSerializer(serializers.Serializer):
    deals = serializers.IntegerField()
    revenue = MoneyField(help_text="Sum of the deal amounts.")
    simulated = MoneyField(help_text="What the simulated plan would have paid.")
    simulated_net = MoneyField(help_text="`simulated` less the deals' refunds and churns.")
    active = MoneyField(help_text="What the compared plan pays; null without one.")
    active_net = MoneyField(help_text="`active` less the deals' refunds and churns.")
    actual_accrued = MoneyField(help_text="The deals' non-void accruals in the ledger.")
    actual_net = MoneyField(help_text="The accruals with their reversals and adjustments.")
    delta = MoneyField(help_text="simulated − active; null without a compared plan.")
    delta_actual = MoneyField(help_text="simulated − actual_accrued.")
    cost_share = MoneyField(help_text="simulated / revenue to 4 places; null without revenue.")


class PartnerCostRowSerializer(CostRowSerializer):
    partner_id = serializers.IntegerField()
    partner_name = serializers.CharField()


class TierCostRowSerializer(CostRowSerializer):
    tier = serializers.CharField(help_text="A, B, C, D or unscored: the fit frozen on the deal.")


class RateSourceSerializer(serializers.Serializer):
    rate_source = serializers.CharField(
        help_text="partner, segment, partner_tier, product, program, default, frozen or recurring."
    )
    simulated_deals = serializers.IntegerField()
    active_deals = serializers.IntegerField()


class SkippedSerializer(serializers.Serializer):
    reason = serializers.CharField()
    description = serializers.CharField()
    deals = serializers.IntegerField()


class SimulationReportSerializer(serializers.Serializer):
    plan = PlanRefSerializer()
    compare_to = PlanRefSerializer(allow_null=True, help_text="The active plan, or null.")
    months = serializers.IntegerField()
    window_start = serializers.DateField()
    window_end = serializers.DateField()
    currency = serializers.CharField()
    totals = CostRowSerializer()
    partners = PartnerCostRowSerializer(many=True)
    tiers = TierCostRowSerializer(many=True)
    rate_sources = RateSourceSerializer(many=True)
    skipped = SkippedSerializer(many=True)


class PlanSimulateView(TenantApiView):
    """Simulate a plan on the won partner deals of the last months; writes nothing."""

    permission_classes = (IsTenantReader,)

    @extend_schema(
        operation_id="commission_plans_simulate",
        tags=["commission plans"],
        summary="Simulate what a plan would have cost",
        description=(
            "Prices the won, partner-credited deals that closed in the last `months` "
            "under the plan and under the active plan, and compares both with what the "
            "ledger booked. Caps per partner and period start from zero at the window's "
            "start. Any staff role may run it, analysts included."
        ),
        request=SimulationInputSerializer,
        responses={
            200: SimulationReportSerializer,
            400: error_response("months is not a whole number from 1 to 60."),
            **DETAIL_ERRORS,
        },
    )
    def post(self, request, pk: int):
        # NOTE: the simulation runs in the request. 100,000 deals took about 10 s on
        # 2 cores (bench/results-simulation.md), so a tenant far larger needs a job.
        plan = commission_plan_get(pk=pk)
        serializer = SimulationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = plan_simulate(
            plan=plan,
            months=serializer.validated_data["months"],
            until=serializer.validated_data["until"],
        )
        return Response(SimulationReportSerializer(report).data)
