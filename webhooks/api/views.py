"""API views of outgoing webhooks: endpoints, secret rotation, test pings, deliveries, replay."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from tenancy.api.views import (
    AUTH_ERRORS,
    DETAIL_ERRORS,
    READ_ERRORS,
    TenantApiView,
    error_response,
)
from webhooks import selectors, services
from webhooks.api.serializers import (
    DeliveryDetailSerializer,
    DeliveryFilterSerializer,
    DeliveryOutputSerializer,
    EndpointInputSerializer,
    EndpointOutputSerializer,
    EndpointPatchSerializer,
    EndpointSecretSerializer,
)

TAGS = ["webhooks"]


def _with_secret(endpoint, secret: str) -> dict:
    data = EndpointOutputSerializer(endpoint).data
    data["secret"] = secret
    return data


class WebhookApiView(TenantApiView):
    scope_group = "webhooks"


class EndpointListView(WebhookApiView):
    """List the tenant's webhook endpoints, and create one."""

    @extend_schema(
        operation_id="webhook_endpoints_list",
        tags=TAGS,
        summary="List webhook endpoints",
        responses={200: EndpointOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        return self.paginated_response(selectors.endpoint_list(), EndpointOutputSerializer)

    @extend_schema(
        operation_id="webhook_endpoints_create",
        tags=TAGS,
        summary="Create a webhook endpoint",
        description=(
            "Returns the endpoint with its secret, which no later response contains. "
            "The url's host must resolve only to public addresses."
        ),
        request=EndpointInputSerializer,
        responses={
            201: EndpointSecretSerializer,
            400: error_response("The url or an event type is invalid."),
            409: error_response("The tenant already has an endpoint with this url."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = EndpointInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = services.endpoint_create(
            tenant=self.tenant, actor=self.actor(), **serializer.validated_data
        )
        return Response(_with_secret(endpoint, secret), status=status.HTTP_201_CREATED)


class EndpointDetailView(WebhookApiView):
    """Read, change or delete one webhook endpoint."""

    @extend_schema(
        operation_id="webhook_endpoints_retrieve",
        tags=TAGS,
        summary="Get a webhook endpoint",
        responses={200: EndpointOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(EndpointOutputSerializer(selectors.endpoint_get(pk=pk)).data)

    @extend_schema(
        operation_id="webhook_endpoints_update",
        tags=TAGS,
        summary="Change a webhook endpoint",
        description="Only the fields sent change. Deliveries already written keep their endpoint.",
        request=EndpointPatchSerializer,
        responses={
            200: EndpointOutputSerializer,
            400: error_response("The url or an event type is invalid."),
            409: error_response("The tenant already has an endpoint with this url."),
            **DETAIL_ERRORS,
        },
    )
    def patch(self, request, pk: int):
        selectors.endpoint_get(pk=pk)
        serializer = EndpointPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(
            tenant=self.tenant,
            endpoint_id=pk,
            changes=dict(serializer.validated_data),
            actor=self.actor(),
        )
        return Response(EndpointOutputSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhook_endpoints_delete",
        tags=TAGS,
        summary="Delete a webhook endpoint and its deliveries",
        responses={204: None, **DETAIL_ERRORS},
    )
    def delete(self, request, pk: int):
        selectors.endpoint_get(pk=pk)
        services.endpoint_delete(tenant=self.tenant, endpoint_id=pk, actor=self.actor())
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointRotateSecretView(WebhookApiView):
    """Replace an endpoint's secret."""

    @extend_schema(
        operation_id="webhook_endpoints_rotate_secret",
        tags=TAGS,
        summary="Replace a webhook endpoint's secret",
        description=(
            "Returns the new secret once. Every request sent from now on, retries "
            "included, is signed with it; the old secret stops working at once."
        ),
        request=None,
        responses={200: EndpointSecretSerializer, **DETAIL_ERRORS},
    )
    def post(self, request, pk: int):
        selectors.endpoint_get(pk=pk)
        endpoint, secret = services.endpoint_secret_rotate(
            tenant=self.tenant, endpoint_id=pk, actor=self.actor()
        )
        return Response(_with_secret(endpoint, secret))


class EndpointTestView(WebhookApiView):
    """Send a ping event to one endpoint now."""

    @extend_schema(
        operation_id="webhook_endpoints_test",
        tags=TAGS,
        summary="Send a ping event to a webhook endpoint",
        description=(
            "Sends within the request, waiting up to 10 s for the endpoint, and returns the "
            "delivery with its outcome. A failed ping is retried on the usual schedule."
        ),
        request=None,
        responses={200: DeliveryDetailSerializer, **DETAIL_ERRORS},
    )
    def post(self, request, pk: int):
        selectors.endpoint_get(pk=pk)
        delivery = services.endpoint_test(tenant=self.tenant, endpoint_id=pk, actor=self.actor())
        return Response(DeliveryDetailSerializer(delivery).data)


class DeliveryListView(WebhookApiView):
    """List webhook deliveries, newest first."""

    @extend_schema(
        operation_id="webhook_deliveries_list",
        tags=TAGS,
        summary="List webhook deliveries, newest first",
        parameters=[DeliveryFilterSerializer],
        responses={200: DeliveryOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        filters = self.query_params_validate(DeliveryFilterSerializer)
        rows = selectors.delivery_list(
            endpoint_id=filters.get("endpoint"),
            status=filters.get("status"),
            event_type=filters.get("type"),
        )
        return self.paginated_response(rows, DeliveryOutputSerializer)


class DeliveryDetailView(WebhookApiView):
    """Read one delivery with its event's data."""

    @extend_schema(
        operation_id="webhook_deliveries_retrieve",
        tags=TAGS,
        summary="Get a webhook delivery with its event's data",
        responses={200: DeliveryDetailSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(DeliveryDetailSerializer(selectors.delivery_get(pk=pk)).data)


class DeliveryReplayView(WebhookApiView):
    """Send a delivery again now."""

    @extend_schema(
        operation_id="webhook_deliveries_replay",
        tags=TAGS,
        summary="Send a webhook delivery again now",
        description=(
            "Schedules a new attempt now, whatever the status, and returns the delivery as "
            "pending; a worker sends it. The attempt counts toward the retry schedule."
        ),
        request=None,
        responses={202: DeliveryOutputSerializer, **DETAIL_ERRORS},
    )
    def post(self, request, pk: int):
        selectors.delivery_get(pk=pk)
        services.delivery_replay(tenant=self.tenant, delivery_id=pk, actor=self.actor())
        delivery = selectors.delivery_get(pk=pk)
        return Response(DeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
