"""API views of entry approval and payouts: list, read, prepare, approve, mark paid, export."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from commissions import approval, payouts, selectors
from commissions.api.serializers import (
    LedgerEntryOutputSerializer,
    PayoutDetailSerializer,
    PayoutFilterSerializer,
    PayoutOutputSerializer,
    PeriodSerializer,
)
from commissions.models import LedgerEntry
from tenancy.api.views import (
    AUTH_ERRORS,
    DETAIL_ERRORS,
    READ_ERRORS,
    TenantApiView,
    error_response,
)

TRANSITION_ERRORS = {
    409: error_response("The entry's status does not allow this change."),
    **DETAIL_ERRORS,
}
PAYOUT_ERRORS = {
    409: error_response(
        "The payout's status does not allow this step, or the approver prepared it."
    ),
    **DETAIL_ERRORS,
}


def _payout_detail(pk: int) -> dict:
    payout = selectors.payout_get(pk=pk)
    payout.entries = list(selectors.payout_entries(payout))
    return PayoutDetailSerializer(payout).data


class _EntryStatusView(TenantApiView):
    status = ""

    def post(self, request, pk: int):
        selectors.ledger_entry_get(pk=pk)
        approval.entry_status_set(entry_id=pk, status=self.status, actor=self.actor())
        entry = selectors.ledger_entry_list().get(pk=pk)
        return Response(LedgerEntryOutputSerializer(entry).data)


class LedgerEntryApproveView(_EntryStatusView):
    """Approve a pending ledger entry by hand."""

    status = LedgerEntry.Status.APPROVED

    @extend_schema(
        operation_id="ledger_entry_approve",
        tags=["ledger"],
        summary="Approve a pending ledger entry",
        description="Held entries cannot be approved. Approving an approved entry changes nothing.",
        request=None,
        responses={200: LedgerEntryOutputSerializer, **TRANSITION_ERRORS},
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class LedgerEntryVoidView(_EntryStatusView):
    """Void a pending entry, or an approved one that is in no payout."""

    status = LedgerEntry.Status.VOID

    @extend_schema(
        operation_id="ledger_entry_void",
        tags=["ledger"],
        summary="Void a pending or approved ledger entry",
        description=(
            "An approved entry in a payout cannot be voided; write a reversal instead. "
            "Voiding a void entry changes nothing."
        ),
        request=None,
        responses={200: LedgerEntryOutputSerializer, **TRANSITION_ERRORS},
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class PayoutListView(TenantApiView):
    """List the tenant's payouts, newest period first."""

    @extend_schema(
        operation_id="payouts_list",
        tags=["payouts"],
        summary="List payouts, newest period first",
        parameters=[PayoutFilterSerializer],
        responses={200: PayoutOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        filters = self.query_params_validate(PayoutFilterSerializer)
        period = payouts.period_parse(filters["period"]) if "period" in filters else None
        rows = selectors.payout_list(
            period_start=period.start if period else None,
            status=filters.get("status"),
            partner_id=filters.get("partner"),
        )
        return self.paginated_response(rows, PayoutOutputSerializer)


class PayoutDetailView(TenantApiView):
    """Return one payout with its entries: the partner's statement."""

    @extend_schema(
        operation_id="payouts_retrieve",
        tags=["payouts"],
        summary="Get a payout with its entries",
        responses={200: PayoutDetailSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(_payout_detail(pk))


class PayoutPrepareView(TenantApiView):
    """Prepare the payouts of one period."""

    # The response lists every payout the call added, unpaged.
    pagination_class = None

    @extend_schema(
        operation_id="payouts_prepare",
        tags=["payouts"],
        summary="Prepare the payouts of a calendar month",
        description=(
            "Groups each partner's approved entries that are in no payout yet, per currency. "
            "Totals below the plan's min_payout_amount, or negative, are carried over. "
            "Preparing a period again adds nothing for partners it already has."
        ),
        request=PeriodSerializer,
        responses={
            200: PayoutOutputSerializer(many=True),
            400: error_response("The period is not a calendar month as YYYY-MM."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = PeriodSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        period = payouts.period_parse(serializer.validated_data["period"])
        added = payouts.payouts_prepare(tenant=self.tenant, period=period, actor=self.actor())
        return Response(PayoutOutputSerializer(added, many=True).data)


class PayoutApproveView(TenantApiView):
    """Approve a prepared payout as a second staff member."""

    @extend_schema(
        operation_id="payouts_approve",
        tags=["payouts"],
        summary="Approve a prepared payout",
        description=(
            "Needs a staff member's login other than the one who prepared the payout; "
            "the preparer and API keys get 409. Approving an approved payout changes nothing."
        ),
        request=None,
        responses={200: PayoutDetailSerializer, **PAYOUT_ERRORS},
    )
    def post(self, request, pk: int):
        selectors.payout_get(pk=pk)
        payouts.payout_approve(payout_id=pk, actor=self.actor())
        return Response(_payout_detail(pk))


class PayoutMarkPaidView(TenantApiView):
    """Mark an approved payout paid, which moves its entries to paid."""

    @extend_schema(
        operation_id="payouts_mark_paid",
        tags=["payouts"],
        summary="Mark an approved payout paid",
        description="Moves the payout's entries approved → paid. A paid payout stays as it is.",
        request=None,
        responses={200: PayoutDetailSerializer, **PAYOUT_ERRORS},
    )
    def post(self, request, pk: int):
        selectors.payout_get(pk=pk)
        payouts.payout_mark_paid(payout_id=pk, actor=self.actor())
        return Response(_payout_detail(pk))


class PayoutExportView(TenantApiView):
    """Export a period's approved and paid payouts as CSV for payment tools."""

    @extend_schema(
        operation_id="payouts_export",
        tags=["payouts"],
        summary="Export a period's approved and paid payouts as CSV",
        parameters=[PeriodSerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="Columns: " + ", ".join(payouts.CSV_HEADER) + ".",
            ),
            **READ_ERRORS,
        },
    )
    def get(self, request):
        period = payouts.period_parse(self.query_params_validate(PeriodSerializer)["period"])
        response = HttpResponse(
            payouts.payouts_export_csv(period=period), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="payouts-{period.label}.csv"'
        return response
