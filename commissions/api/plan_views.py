"""API views of commission plans: drafts, activation, copies and previews."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from commissions.api.serializers import (
    CommissionPlanDraftSerializer,
    CommissionPlanSerializer,
    PlanActivateSerializer,
    PlanCopySerializer,
)
from commissions.plans import (
    commission_plan_activate,
    commission_plan_copy,
    commission_plan_draft_delete,
    commission_plan_draft_save,
)
from commissions.preview import deal_preview, described_deal_preview
from commissions.selectors import commission_plan_get, commission_plan_list
from crm.models import Deal
from tenancy.api.fields import MoneyField
from tenancy.api.permissions import IsTenantReader
from tenancy.api.views import AUTH_ERRORS, DETAIL_ERRORS, READ_ERRORS, TenantApiView, error_response
from tenancy.errors import NotFound

WRITE_ERRORS = {
    400: error_response("A field is invalid."),
    404: error_response("The plan is not one of the tenant's."),
    409: error_response("The plan is activated, or the name is taken."),
    **AUTH_ERRORS,
}


def _draft_values(data: dict) -> dict:
    values = dict(data)
    values["rules"] = [dict(rule) for rule in values.get("rules", [])]
    return values


class CommissionPlanListView(TenantApiView):
    """List every plan of the tenant, or create a draft."""

    @extend_schema(
        operation_id="commission_plans_list",
        tags=["commission plans"],
        summary="List commission plans: the active one, drafts, then earlier plans",
        responses={200: CommissionPlanSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        return self.paginated_response(commission_plan_list(), CommissionPlanSerializer)

    @extend_schema(
        operation_id="commission_plans_create_draft",
        tags=["commission plans"],
        summary="Create a draft plan, which pays nothing until activated",
        request=CommissionPlanDraftSerializer,
        responses={201: CommissionPlanSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        serializer = CommissionPlanDraftSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = commission_plan_draft_save(
            tenant=self.tenant, actor=self.actor(), **_draft_values(serializer.validated_data)
        )
        return Response(
            CommissionPlanSerializer(commission_plan_get(pk=plan.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class CommissionPlanDetailView(TenantApiView):
    """Read a plan, or edit or delete a draft."""

    @extend_schema(
        operation_id="commission_plans_retrieve",
        tags=["commission plans"],
        summary="Get a commission plan with its rules",
        responses={200: CommissionPlanSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(CommissionPlanSerializer(commission_plan_get(pk=pk)).data)

    @extend_schema(
        operation_id="commission_plans_update_draft",
        tags=["commission plans"],
        summary="Replace a draft's terms and rules",
        request=CommissionPlanDraftSerializer,
        responses={200: CommissionPlanSerializer, **WRITE_ERRORS},
    )
    def put(self, request, pk: int):
        commission_plan_get(pk=pk)
        serializer = CommissionPlanDraftSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        commission_plan_draft_save(
            tenant=self.tenant,
            actor=self.actor(),
            pk=pk,
            **_draft_values(serializer.validated_data),
        )
        return Response(CommissionPlanSerializer(commission_plan_get(pk=pk)).data)

    @extend_schema(
        operation_id="commission_plans_delete_draft",
        tags=["commission plans"],
        summary="Delete a draft",
        responses={204: None, **WRITE_ERRORS},
    )
    def delete(self, request, pk: int):
        commission_plan_draft_delete(
            tenant=self.tenant, plan=commission_plan_get(pk=pk), actor=self.actor()
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommissionPlanActivateView(TenantApiView):
    """Make a draft the active plan from a day on."""

    @extend_schema(
        operation_id="commission_plans_activate",
        tags=["commission plans"],
        summary="Activate a draft",
        description=(
            "The plan pays deals that close on or after effective_from (default today in the "
            "tenant's time zone); the plan it replaces keeps paying deals that closed before. "
            "Entries already booked never change."
        ),
        request=PlanActivateSerializer,
        responses={200: CommissionPlanSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int):
        plan = commission_plan_get(pk=pk)
        serializer = PlanActivateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        commission_plan_activate(
            tenant=self.tenant,
            actor=self.actor(),
            name=plan.name,
            effective_from=serializer.validated_data["effective_from"],
        )
        return Response(CommissionPlanSerializer(commission_plan_get(pk=pk)).data)


class CommissionPlanCopyView(TenantApiView):
    """Copy a plan into a new draft."""

    @extend_schema(
        operation_id="commission_plans_copy",
        tags=["commission plans"],
        summary="Copy a plan and its rules into a new draft",
        request=PlanCopySerializer,
        responses={201: CommissionPlanSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int):
        source = commission_plan_get(pk=pk)
        serializer = PlanCopySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        draft = commission_plan_copy(
            tenant=self.tenant,
            source=source,
            name=serializer.validated_data["name"],
            actor=self.actor(),
        )
        return Response(
            CommissionPlanSerializer(commission_plan_get(pk=draft.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class PreviewInputSerializer(serializers.Serializer):
    plan_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Price under this plan (a draft included); default: the plan in force on the "
        "close date.",
    )
    deal_external_id = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="A stored deal to price; the fields below describe a deal instead.",
    )
    partner_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True, default="")
    close_date = serializers.DateField(required=False, allow_null=True, default=None)
    kind = serializers.ChoiceField(choices=Deal.Kind.choices, default=Deal.Kind.NEW)
    product = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    account_domain = serializers.CharField(
        max_length=253,
        required=False,
        allow_blank=True,
        default="",
        help_text="The account, for its fit and the partner's original accrual on it.",
    )
    fit_tier = serializers.ChoiceField(
        choices=["A", "B", "C", "D", ""], required=False, allow_blank=True, default=""
    )
    fit_score = serializers.IntegerField(
        min_value=0, max_value=100, required=False, allow_null=True, default=None
    )

    def validate(self, data):
        if not data["deal_external_id"]:
            for field in ("partner_id", "amount"):
                if data[field] is None:
                    raise serializers.ValidationError(
                        {field: "Required unless deal_external_id names a stored deal."}
                    )
        return data


class PreviewQuoteSerializer(serializers.Serializer):
    currency = serializers.CharField(help_text="The deal's currency.")
    base_currency = serializers.CharField()
    rate = serializers.DecimalField(max_digits=18, decimal_places=8)
    rate_date = serializers.DateField()


class PreviewFactsSerializer(serializers.Serializer):
    amount = MoneyField(help_text="The deal amount in the base currency.")
    currency = serializers.CharField()
    kind = serializers.CharField()
    product = serializers.CharField()
    partner_segment = serializers.CharField(allow_null=True)
    partner_tier = serializers.CharField()
    fit_tier = serializers.CharField()
    fit_score = serializers.IntegerField(allow_null=True)
    close_date = serializers.DateField()


class PreviewPriceSerializer(serializers.Serializer):
    payout_type = serializers.CharField()
    rate = serializers.DecimalField(
        source="percentage_rate",
        max_digits=6,
        decimal_places=4,
        allow_null=True,
        help_text="Null on a flat price.",
    )
    flat_amount = MoneyField(allow_null=True)
    multiplier = serializers.DecimalField(max_digits=5, decimal_places=2)
    band_multiplier = serializers.DecimalField(max_digits=5, decimal_places=2)
    segment_multiplier = serializers.DecimalField(max_digits=5, decimal_places=2)
    partner_tier_multiplier = serializers.DecimalField(max_digits=5, decimal_places=2)
    rate_source = serializers.CharField(
        help_text="partner, segment, partner_tier, product, program, default (the plan's own "
        "rate), frozen (a renewal priced as its original accrual) or recurring (past the "
        "plan's recurring window)."
    )
    rate_source_detail = serializers.CharField()
    amount = MoneyField()
    uncapped_amount = MoneyField(allow_null=True)
    steps = serializers.ListField(child=serializers.CharField(), help_text="Why, step by step.")


class PreviewPlanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    is_draft = serializers.BooleanField()


class PreviewPartnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PreviewBookedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    amount = MoneyField()
    rate_source = serializers.CharField()
    plan_id = serializers.IntegerField(allow_null=True)


class PreviewOutputSerializer(serializers.Serializer):
    plan = PreviewPlanSerializer()
    partner = PreviewPartnerSerializer()
    deal_external_id = serializers.CharField(source="deal.external_id", allow_null=True)
    facts = PreviewFactsSerializer()
    price = PreviewPriceSerializer()
    quote = PreviewQuoteSerializer(help_text="The conversion into the base currency.")
    cap_remaining = MoneyField(
        currency_path="facts.currency",
        allow_null=True,
        help_text="What is left of the partner's cap in the deal's cap period before this deal.",
    )
    booked = PreviewBookedSerializer(
        allow_null=True, help_text="The accrual the ledger holds for the deal, if any."
    )


class CommissionPreviewView(TenantApiView):
    """Price a deal under a plan and explain the amount; writes nothing."""

    permission_classes = (IsTenantReader,)

    @extend_schema(
        operation_id="commission_plans_preview",
        tags=["commission plans"],
        summary="What would this deal pay, and why",
        request=PreviewInputSerializer,
        responses={
            200: PreviewOutputSerializer,
            400: error_response("A field is invalid."),
            404: OpenApiResponse(
                description="The plan, deal, partner or account is unknown, or no exchange rate "
                "converts the deal's currency on its close date."
            ),
            409: error_response("No plan is in force on the close date."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = PreviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        plan = None
        if data["plan_id"]:
            try:
                plan = commission_plan_get(pk=data["plan_id"])
            except NotFound as error:
                error.field = "plan_id"
                raise
        if data["deal_external_id"]:
            deal = (
                Deal.objects.select_related("account", "partner")
                .filter(external_id=data["deal_external_id"])
                .first()
            )
            if deal is None:
                raise NotFound(
                    "No deal has this external id.",
                    field="deal_external_id",
                    value=data["deal_external_id"],
                    fix="Send a stored deal's external_id, or describe the deal instead.",
                )
            preview = deal_preview(tenant=self.tenant, deal=deal, plan=plan)
        else:
            preview = described_deal_preview(
                tenant=self.tenant,
                plan=plan,
                **{key: data[key] for key in data if key not in ("plan_id", "deal_external_id")},
            )
        return Response(PreviewOutputSerializer(preview).data)
