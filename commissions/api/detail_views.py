"""API views that return one ledger entry or one revenue event."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from commissions.api.serializers import LedgerEntryOutputSerializer, RevenueEventOutputSerializer
from commissions.selectors import ledger_entry_get, revenue_event_get
from tenancy.api.views import DETAIL_ERRORS, TenantApiView


class LedgerEntryDetailView(TenantApiView):
    """Return one of the tenant's commission ledger entries."""

    scope_group = "commissions"

    @extend_schema(
        operation_id="ledger_retrieve",
        tags=["ledger"],
        summary="Get a commission ledger entry",
        responses={200: LedgerEntryOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(LedgerEntryOutputSerializer(ledger_entry_get(pk=pk)).data)


class RevenueEventDetailView(TenantApiView):
    """Return one refund or churn event with the reversals it wrote."""

    scope_group = "commissions"

    @extend_schema(
        operation_id="revenue_events_retrieve",
        tags=["ledger"],
        summary="Get a refund or churn event with its reversals",
        responses={200: RevenueEventOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(RevenueEventOutputSerializer(revenue_event_get(pk=pk)).data)
