"""API views of the commission ledger."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from commissions.api.serializers import (
    CREATED_ORDERINGS,
    CommissionPlanSerializer,
    LedgerCorrectionInputSerializer,
    LedgerEntryOutputSerializer,
    LedgerFilterSerializer,
    RevenueEventFilterSerializer,
    RevenueEventInputSerializer,
    RevenueEventOutputSerializer,
)
from commissions.corrections import ledger_correction_add
from commissions.plans import commission_plan_activate
from commissions.reversals import revenue_event_record
from commissions.selectors import (
    commission_plan_active,
    commission_plan_get,
    ledger_entry_list,
    revenue_event_get,
    revenue_event_list,
)
from tenancy.api.listing import date_range_filter, list_refine
from tenancy.api.pagination import CursorOrOffsetPagination
from tenancy.api.views import (
    AUTH_ERRORS,
    DETAIL_ERRORS,
    READ_ERRORS,
    TenantApiView,
    error_response,
)
from tenancy.errors import NotFound


class LedgerEntryListView(TenantApiView):
    """List the tenant's commission ledger entries, newest first."""

    pagination_class = CursorOrOffsetPagination
    scope_group = "commissions"

    @extend_schema(
        operation_id="ledger_list",
        tags=["ledger"],
        summary="List commission ledger entries, newest first",
        parameters=[LedgerFilterSerializer],
        responses={200: LedgerEntryOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        filters = self.query_params_validate(LedgerFilterSerializer)
        entries = ledger_entry_list(
            partner_id=filters.get("partner"),
            status=filters.get("status"),
            kind=filters.get("kind"),
        )
        entries = date_range_filter(entries, "created_at__date", filters, "created")
        entries = list_refine(entries, filters, CREATED_ORDERINGS)
        return self.paginated_response(entries, LedgerEntryOutputSerializer)

    @extend_schema(
        operation_id="ledger_add_correction",
        tags=["ledger"],
        summary="Add a manual adjustment or bonus, once per idempotency key",
        description=(
            "The ledger is append-only: a correction is a new entry. It starts pending and is "
            "approved or voided with POST /api/v1/ledger/{id}/approve/ or /void/."
        ),
        request=LedgerCorrectionInputSerializer,
        responses={
            200: OpenApiResponse(LedgerEntryOutputSerializer, description="The key existed."),
            201: OpenApiResponse(LedgerEntryOutputSerializer, description="The entry was added."),
            400: error_response("A field is invalid."),
            404: error_response("The partner or deal is not one of the tenant's."),
            409: error_response("The key was used with other values."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = LedgerCorrectionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = ledger_correction_add(
            tenant=self.tenant, actor=self.actor(), **serializer.validated_data
        )
        entry = ledger_entry_list().get(pk=result.entry.pk)
        return Response(
            LedgerEntryOutputSerializer(entry).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class CommissionPlanView(TenantApiView):
    """Read or replace the tenant's active commission plan."""

    @extend_schema(
        operation_id="commission_plan_retrieve",
        tags=["ledger"],
        summary="Get the active commission plan",
        responses={200: CommissionPlanSerializer, **DETAIL_ERRORS},
    )
    def get(self, request):
        plan = commission_plan_active()
        if plan is None:
            raise NotFound(
                "The tenant has no active commission plan.",
                fix="PUT a plan to /api/v1/commission-plan/.",
            )
        return Response(CommissionPlanSerializer(plan).data)

    @extend_schema(
        operation_id="commission_plan_update",
        tags=["ledger"],
        summary="Replace the active commission plan",
        description=(
            "Creates or updates the plan with this name and makes it the only active one. "
            "Ledger entries already booked keep the rate and multiplier they were booked with."
        ),
        request=CommissionPlanSerializer,
        responses={
            200: CommissionPlanSerializer,
            400: error_response("A field is invalid."),
            **AUTH_ERRORS,
        },
    )
    def put(self, request):
        serializer = CommissionPlanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        values = dict(serializer.validated_data)
        values["rules"] = [dict(rule) for rule in values.get("rules", [])]
        plan = commission_plan_activate(tenant=self.tenant, actor=self.actor(), **values)

        return Response(CommissionPlanSerializer(commission_plan_get(pk=plan.pk)).data)


class RevenueEventListView(TenantApiView):
    """Record refund and churn events, and list them with the reversals they wrote."""

    pagination_class = CursorOrOffsetPagination
    scope_group = "commissions"

    @extend_schema(
        operation_id="revenue_events_list",
        tags=["ledger"],
        summary="List refund and churn events, newest first",
        parameters=[RevenueEventFilterSerializer],
        responses={200: RevenueEventOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        filters = self.query_params_validate(RevenueEventFilterSerializer)
        events = revenue_event_list(kind=filters.get("kind"))
        events = date_range_filter(events, "occurred_on", filters, "occurred")
        events = list_refine(events, filters, CREATED_ORDERINGS)
        return self.paginated_response(events, RevenueEventOutputSerializer)

    @extend_schema(
        operation_id="revenue_events_record",
        tags=["ledger"],
        summary="Record a refund or churn event by external id",
        description=(
            "Creates the event (201); a worker writes its commission reversals right after, so "
            "reversals may still be empty in this reply. Sending the same external_id with the "
            "same values again returns the event unchanged (200). Different values update an "
            "event that is not processed yet (200) and return 409, naming the field, once it is."
        ),
        request=RevenueEventInputSerializer,
        responses={
            200: OpenApiResponse(RevenueEventOutputSerializer, description="The event existed."),
            201: OpenApiResponse(
                RevenueEventOutputSerializer, description="The event was created."
            ),
            400: error_response("A field is invalid."),
            404: error_response("The deal or account is not one of the tenant's."),
            409: error_response("The event is already processed and a field changed."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = RevenueEventInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = revenue_event_record(
            tenant=self.tenant, actor=self.actor(), **serializer.validated_data
        )
        event = revenue_event_get(pk=result.event.pk)
        return Response(
            RevenueEventOutputSerializer(event).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
