"""API views of billing connections and their received events."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from billing import connections, processing, selectors
from billing.api.serializers import (
    ConnectionCreateSerializer,
    ConnectionOutputSerializer,
    EventFilterSerializer,
    EventOutputSerializer,
    SecretRotateSerializer,
)
from tenancy.api.views import (
    AUTH_ERRORS,
    DETAIL_ERRORS,
    READ_ERRORS,
    TenantApiView,
    error_response,
)


class _BillingApiView(TenantApiView):
    scope_group = "billing"

    def connection_response(self, connection, *, status_code=status.HTTP_200_OK) -> Response:
        serializer = ConnectionOutputSerializer(connection, context={"request": self.request})
        return Response(serializer.data, status=status_code)


class ConnectionListView(_BillingApiView):
    """List or create the tenant's billing connections."""

    @extend_schema(
        operation_id="billing_connections_list",
        tags=["billing"],
        summary="List billing connections",
        responses={200: ConnectionOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        rows = selectors.connection_list()
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        data = ConnectionOutputSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="billing_connections_create",
        tags=["billing"],
        summary="Create a billing connection",
        description=(
            "Stores the provider's endpoint signing secret and returns the webhook URL to "
            "register with the provider. The secret is never returned."
        ),
        request=ConnectionCreateSerializer,
        responses={
            201: ConnectionOutputSerializer,
            400: error_response("A field is invalid, such as a secret of the wrong form."),
            409: error_response("A connection with this name exists."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = ConnectionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        connection = connections.billing_connection_create(
            tenant=self.tenant, actor=self.actor(), **serializer.validated_data
        )
        return self.connection_response(connection, status_code=status.HTTP_201_CREATED)


class ConnectionDetailView(_BillingApiView):
    """Return one billing connection."""

    @extend_schema(
        operation_id="billing_connections_retrieve",
        tags=["billing"],
        summary="Get a billing connection",
        responses={200: ConnectionOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return self.connection_response(selectors.connection_get(pk=pk))


class ConnectionRotateView(_BillingApiView):
    """Replace a connection's signing secret."""

    @extend_schema(
        operation_id="billing_connections_rotate",
        tags=["billing"],
        summary="Rotate a connection's signing secret",
        description=(
            "Send the new secret after rolling it in the provider. With keep_previous_hours, "
            "deliveries signed with the old secret are accepted for that long."
        ),
        request=SecretRotateSerializer,
        responses={
            200: ConnectionOutputSerializer,
            400: error_response("The secret or keep_previous_hours is invalid."),
            **DETAIL_ERRORS,
        },
    )
    def post(self, request, pk: int):
        selectors.connection_get(pk=pk)
        serializer = SecretRotateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        connection = connections.billing_connection_rotate(
            connection_id=pk, actor=self.actor(), **serializer.validated_data
        )
        return self.connection_response(connection)


class ConnectionDeactivateView(_BillingApiView):
    """Stop a connection from accepting webhooks."""

    @extend_schema(
        operation_id="billing_connections_deactivate",
        tags=["billing"],
        summary="Deactivate a billing connection",
        description="Its webhook URL returns 404 from then on. Deactivating twice changes nothing.",
        request=None,
        responses={200: ConnectionOutputSerializer, **DETAIL_ERRORS},
    )
    def post(self, request, pk: int):
        selectors.connection_get(pk=pk)
        connection = connections.billing_connection_deactivate(connection_id=pk, actor=self.actor())
        return self.connection_response(connection)


class EventListView(_BillingApiView):
    """List the events the tenant's connections received, newest first."""

    @extend_schema(
        operation_id="billing_events_list",
        tags=["billing"],
        summary="List received billing events, newest first",
        parameters=[EventFilterSerializer],
        responses={200: EventOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        filters = self.query_params_validate(EventFilterSerializer)
        return self.paginated_response(
            selectors.event_list(status=filters.get("status")), EventOutputSerializer
        )


class EventRetryView(_BillingApiView):
    """Process an unmatched or failed event again."""

    @extend_schema(
        operation_id="billing_events_retry",
        tags=["billing"],
        summary="Retry an unmatched or failed billing event",
        description=(
            "Sets the event back to received and queues its processing, for example after "
            "the missing account was created. The reply shows the event as queued."
        ),
        request=None,
        responses={
            200: EventOutputSerializer,
            409: error_response("The event is not unmatched or failed."),
            **DETAIL_ERRORS,
        },
    )
    def post(self, request, pk: int):
        selectors.event_get(pk=pk)
        processing.billing_event_retry(billing_event_id=pk, actor=self.actor())
        return Response(EventOutputSerializer(selectors.event_get(pk=pk)).data)
