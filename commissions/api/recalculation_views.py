"""API views of recalculations: preview, read, apply and discard."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from commissions.models import Recalculation
from commissions.recalculation import (
    recalculation_apply,
    recalculation_discard,
    recalculation_get,
    recalculation_preview,
)
from commissions.selectors import commission_plan_get
from tenancy.api.views import AUTH_ERRORS, DETAIL_ERRORS, TenantApiView, error_response
from tenancy.errors import NotFound


class RecalculationInputSerializer(serializers.Serializer):
    plan_id = serializers.IntegerField(help_text="The activated plan whose terms re-price.")
    close_from = serializers.DateField(help_text="First close date of the deals, inclusive.")
    close_to = serializers.DateField(help_text="Last close date of the deals, inclusive.")


class RecalculationPlanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RecalculationLineSerializer(serializers.Serializer):
    accrual_id = serializers.IntegerField()
    partner_id = serializers.IntegerField()
    partner_name = serializers.CharField()
    deal_id = serializers.IntegerField()
    deal_external_id = serializers.CharField()
    close_date = serializers.DateField()
    currency = serializers.CharField()
    status = serializers.CharField(help_text="The accrual's status at the preview.")
    old_amount = serializers.CharField(help_text="The accrual plus its earlier adjustments.")
    reversed = serializers.CharField(help_text="The accrual's refund and churn reversals.")
    new_amount = serializers.CharField(help_text="The accrual's price under the plan now.")
    delta = serializers.CharField(help_text="new_amount − old_amount: the adjustment.")
    rate_source = serializers.CharField()
    rate_source_detail = serializers.CharField()


class RecalculationTotalSerializer(serializers.Serializer):
    partner_id = serializers.IntegerField()
    partner_name = serializers.CharField()
    currency = serializers.CharField()
    accruals = serializers.IntegerField()
    old = serializers.CharField()
    new = serializers.CharField()
    delta = serializers.CharField()


class RecalculationOutputSerializer(serializers.ModelSerializer):
    plan = RecalculationPlanSerializer()
    created_by = serializers.SerializerMethodField()
    applied_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Null until applied."
    )
    lines = RecalculationLineSerializer(many=True)
    totals = RecalculationTotalSerializer(many=True)

    class Meta:
        model = Recalculation
        fields = (
            "id",
            "plan",
            "close_from",
            "close_to",
            "status",
            "expires_at",
            "fingerprint",
            "created_at",
            "created_by",
            "applied_at",
            "applied_by",
            "discarded_at",
            "totals",
            "lines",
        )

    def get_created_by(self, recalculation) -> str:
        if recalculation.created_by_id:
            return recalculation.created_by.get_username()
        return recalculation.created_by_label


CHANGE_ERRORS = {
    409: error_response(
        "The recalculation is discarded or expired, or its entries changed since the preview."
    ),
    **DETAIL_ERRORS,
}


def _output(pk: int) -> dict:
    return RecalculationOutputSerializer(recalculation_get(pk=pk)).data


class RecalculationCreateView(TenantApiView):
    """Preview a recalculation of booked accruals under a plan."""

    @extend_schema(
        operation_id="recalculations_create",
        tags=["ledger"],
        summary="Preview re-pricing booked accruals under a plan",
        description=(
            "Re-prices the non-void accruals of deals that closed in the range on days the "
            "plan is in force, and stores the accruals whose amount would change. Nothing "
            "is written to the ledger until the preview is applied, within 24 hours. "
            "Admins, partner managers and API keys only."
        ),
        request=RecalculationInputSerializer,
        responses={
            201: RecalculationOutputSerializer,
            400: error_response("A field is invalid, or the plan is not in force in the range."),
            404: error_response("The tenant has no plan with this plan_id."),
            409: error_response("The plan is a draft."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = RecalculationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            plan = commission_plan_get(pk=data["plan_id"])
        except NotFound as error:
            error.field = "plan_id"
            raise
        recalculation = recalculation_preview(
            tenant=self.tenant,
            plan=plan,
            close_from=data["close_from"],
            close_to=data["close_to"],
            actor=self.actor(),
        )
        return Response(_output(recalculation.pk), status=status.HTTP_201_CREATED)


class RecalculationDetailView(TenantApiView):
    """Return one recalculation with its lines and totals per partner."""

    @extend_schema(
        operation_id="recalculations_retrieve",
        tags=["ledger"],
        summary="Get a recalculation with its lines",
        responses={200: RecalculationOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(_output(pk))


class RecalculationApplyView(TenantApiView):
    """Write a previewed recalculation's adjustments."""

    @extend_schema(
        operation_id="recalculations_apply",
        tags=["ledger"],
        summary="Apply a previewed recalculation",
        description=(
            "Writes one adjustment entry per line, once: applying an applied recalculation "
            "changes nothing. Returns 409, writing nothing, when the preview expired or the "
            "lines computed now differ from the preview's."
        ),
        request=None,
        responses={200: RecalculationOutputSerializer, **CHANGE_ERRORS},
    )
    def post(self, request, pk: int):
        recalculation_get(pk=pk)
        recalculation_apply(tenant=self.tenant, recalculation_id=pk, actor=self.actor())
        return Response(_output(pk))


class RecalculationDiscardView(TenantApiView):
    """Discard a previewed recalculation."""

    @extend_schema(
        operation_id="recalculations_discard",
        tags=["ledger"],
        summary="Discard a previewed recalculation",
        description="An applied recalculation cannot be discarded (409).",
        request=None,
        responses={200: RecalculationOutputSerializer, **CHANGE_ERRORS},
    )
    def post(self, request, pk: int):
        recalculation_get(pk=pk)
        recalculation_discard(tenant=self.tenant, recalculation_id=pk, actor=self.actor())
        return Response(_output(pk))
