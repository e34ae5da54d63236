"""Serializers of the billing API. No serializer ever outputs a signing secret."""

from __future__ import annotations

from rest_framework import serializers

from billing.connections import MAX_PREVIOUS_SECRET_HOURS
from billing.models import BillingConnection, BillingEvent
from billing.selectors import connection_webhook_url


class ConnectionOutputSerializer(serializers.ModelSerializer):
    webhook_url = serializers.SerializerMethodField(
        help_text="The URL to register as the provider's webhook endpoint."
    )

    class Meta:
        model = BillingConnection
        fields = (
            "id",
            "provider",
            "name",
            "webhook_url",
            "is_active",
            "created_at",
            "secret_rotated_at",
            "previous_secret_expires_at",
            "last_event_at",
        )

    def get_webhook_url(self, connection: BillingConnection) -> str:
        return connection_webhook_url(self.context["request"], connection)


class ConnectionCreateSerializer(serializers.Serializer):
    provider = serializers.ChoiceField(choices=BillingConnection.Provider.choices)
    name = serializers.CharField(max_length=100)
    signing_secret = serializers.CharField(
        max_length=200,
        write_only=True,
        help_text="The endpoint's signing secret from the provider, such as whsec_…. "
        "Stored for verification and never returned.",
    )


class SecretRotateSerializer(serializers.Serializer):
    signing_secret = serializers.CharField(max_length=200, write_only=True)
    keep_previous_hours = serializers.IntegerField(
        min_value=0,
        max_value=MAX_PREVIOUS_SECRET_HOURS,
        default=0,
        help_text="Hours the replaced secret stays valid, while the provider signs with both.",
    )


class EventFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=BillingEvent.Status.choices, required=False)


class EventOutputSerializer(serializers.ModelSerializer):
    connection = serializers.PrimaryKeyRelatedField(read_only=True)
    account_external_id = serializers.CharField(
        source="account.external_id", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = BillingEvent
        fields = (
            "id",
            "connection",
            "provider",
            "event_id",
            "event_type",
            "occurred_at",
            "received_at",
            "status",
            "error",
            "outcome",
            "attempts",
            "processed_at",
            "account_external_id",
        )
