"""API views of fraud signals: list, read, dismiss and confirm."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from attribution.fraud import review, selectors
from attribution.fraud.api.serializers import (
    ConfirmInputSerializer,
    DismissInputSerializer,
    FraudSignalFilterSerializer,
    FraudSignalOutputSerializer,
)
from tenancy.api.views import DETAIL_ERRORS, READ_ERRORS, TenantApiView, error_response


def _with_held(signals: list) -> list:
    """Set `held` on each signal: its held entries per currency."""
    amounts = selectors.held_amounts(signals)
    for signal in signals:
        signal.held = amounts.get(signal.pk, [])
    return signals


def _signal_data(pk: int) -> dict:
    """Return signal `pk` of the active tenant as the API shows it; raise NotFound if missing."""
    signal = _with_held([selectors.fraud_signal_get(pk=pk)])[0]
    return FraudSignalOutputSerializer(signal).data


class FraudSignalListView(TenantApiView):
    """List the tenant's fraud signals, open ones first."""

    @extend_schema(
        operation_id="fraud_signals_list",
        tags=["fraud"],
        summary="List fraud signals, open ones first, then newest first",
        parameters=[FraudSignalFilterSerializer],
        responses={200: FraudSignalOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        filters = self.query_params_validate(FraudSignalFilterSerializer)
        signals = selectors.fraud_signal_list(
            status=filters.get("status"),
            kind=filters.get("kind"),
            partner_id=filters.get("partner"),
        )
        paginator = self.pagination_class()
        page = _with_held(paginator.paginate_queryset(signals, request, view=self))
        return paginator.get_paginated_response(FraudSignalOutputSerializer(page, many=True).data)


class FraudSignalDetailView(TenantApiView):
    """Return one fraud signal with its evidence and held amounts."""

    @extend_schema(
        operation_id="fraud_signals_retrieve",
        tags=["fraud"],
        summary="Get a fraud signal",
        responses={200: FraudSignalOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(_signal_data(pk))


REVIEW_ERRORS = {
    400: error_response("The note is missing (confirm) or too long."),
    409: error_response("The signal was already reviewed with the other outcome."),
    **DETAIL_ERRORS,
}


class FraudSignalDismissView(TenantApiView):
    """Dismiss a fraud signal and release the entries it held."""

    @extend_schema(
        operation_id="fraud_signals_dismiss",
        tags=["fraud"],
        summary="Dismiss a fraud signal",
        description=(
            "Releases the entries the signal held back to pending, except those another open "
            "signal covers. Dismissing a dismissed signal returns 200 and changes nothing; a "
            "confirmed one returns 409."
        ),
        request=DismissInputSerializer,
        responses={200: FraudSignalOutputSerializer, **REVIEW_ERRORS},
    )
    def post(self, request, pk: int):
        signal = selectors.fraud_signal_get(pk=pk)
        serializer = DismissInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        review.fraud_signal_dismiss(
            signal=signal, actor=self.actor(), note=serializer.validated_data["note"]
        )

        return Response(_signal_data(pk))


class FraudSignalConfirmView(TenantApiView):
    """Confirm a fraud signal: void the entries it held and reject its registration."""

    @extend_schema(
        operation_id="fraud_signals_confirm",
        tags=["fraud"],
        summary="Confirm a fraud signal",
        description=(
            "Voids the entries the signal held and rejects its registration, if it has one. "
            "Approved and paid entries never change. A note is required. Confirming a "
            "confirmed signal returns 200 and changes nothing; a dismissed one returns 409."
        ),
        request=ConfirmInputSerializer,
        responses={200: FraudSignalOutputSerializer, **REVIEW_ERRORS},
    )
    def post(self, request, pk: int):
        signal = selectors.fraud_signal_get(pk=pk)
        serializer = ConfirmInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        review.fraud_signal_confirm(
            signal=signal, actor=self.actor(), note=serializer.validated_data["note"]
        )

        return Response(_signal_data(pk))
