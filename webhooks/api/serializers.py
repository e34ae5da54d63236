"""Request and response shapes of the webhook API."""

from __future__ import annotations

from rest_framework import serializers

from webhooks.models import EventType, WebhookDelivery
from webhooks.services import SUBSCRIBABLE_TYPES

EVENT_TYPES_HELP = "Event types to send, one or more of: " + ", ".join(SUBSCRIBABLE_TYPES) + "."


class EndpointInputSerializer(serializers.Serializer):
    """Fields of a new endpoint; the service checks the url and the event types."""

    url = serializers.CharField(
        help_text="Absolute http or https URL; its host must resolve to public addresses only."
    )
    event_types = serializers.ListField(child=serializers.CharField(), help_text=EVENT_TYPES_HELP)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False, default=True)


class EndpointPatchSerializer(serializers.Serializer):
    url = serializers.CharField(required=False)
    event_types = serializers.ListField(
        child=serializers.CharField(), required=False, help_text=EVENT_TYPES_HELP
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class EndpointOutputSerializer(serializers.Serializer):
    """An endpoint without its secret."""

    id = serializers.IntegerField()
    url = serializers.CharField()
    description = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class EndpointSecretSerializer(EndpointOutputSerializer):
    """An endpoint with its secret, returned only by create and rotate-secret."""

    secret = serializers.CharField(
        help_text="The HMAC-SHA256 key of Track360-Signature. Store it now: it is never "
        "returned again."
    )


class DeliveryFilterSerializer(serializers.Serializer):
    endpoint = serializers.IntegerField(required=False, help_text="An endpoint id.")
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices, required=False)
    type = serializers.ChoiceField(
        choices=EventType.choices, required=False, help_text="An event type."
    )


class DeliveryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    delivery_id = serializers.UUIDField(
        source="uuid", help_text="The Track360-Delivery header of every attempt."
    )
    endpoint = serializers.IntegerField(source="endpoint_id")
    event_id = serializers.UUIDField(source="event.uuid", help_text="The id field of the body.")
    event_type = serializers.CharField(source="event.type")
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices)
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_response_excerpt = serializers.CharField(
        help_text="The start of the last response body, at most 500 characters."
    )
    last_error = serializers.CharField()
    succeeded_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class DeliveryDetailSerializer(DeliveryOutputSerializer):
    payload = serializers.JSONField(source="event.payload", help_text="The event's data.")
