"""Request and response shapes of the API key management endpoints."""

from __future__ import annotations

from rest_framework import serializers

from tenancy.api.scopes import GROUPS
from tenancy.models import ApiKey
from tenancy.services import API_KEY_MAX_DAYS


class ApiKeyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The first characters of the key, to tell keys apart.")
    scopes = serializers.ListField(child=serializers.CharField(), help_text="Such as crm:read.")
    status = serializers.ChoiceField(choices=ApiKey.STATUSES)
    expires_at = serializers.DateTimeField(allow_null=True)
    rate = serializers.CharField(help_text="Such as 600/min; empty for the server default.")
    last_used_at = serializers.DateTimeField(
        allow_null=True, help_text="Updated at most once a minute."
    )
    revoked_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(
        source="created_by.get_username", default=None, allow_null=True
    )


class ApiKeyCreatedSerializer(ApiKeyOutputSerializer):
    key = serializers.CharField(
        help_text="The raw key. It is returned only in this response and cannot be retrieved "
        "later, because only its SHA-256 digest is stored."
    )


class ApiKeyInputSerializer(serializers.Serializer):
    """A new key. The service checks the scopes, the expiry and the rate."""

    name = serializers.CharField(max_length=100, help_text="What uses the key, such as CRM sync.")
    scopes = serializers.ListField(
        child=serializers.CharField(max_length=40),
        help_text="<group>:read or <group>:write, or *:read / *:write for every group. "
        "Groups: " + ", ".join(GROUPS) + ".",
    )
    expires_in_days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=API_KEY_MAX_DAYS,
        help_text="Days until the key expires; leave out with expires_at for a key that "
        "does not expire.",
    )
    expires_at = serializers.DateTimeField(
        required=False, help_text="When the key expires; instead of expires_in_days."
    )
    rate = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        help_text="Requests per period for this key, such as 600/min; empty for the default.",
    )

    def validate(self, attrs):
        if "expires_in_days" in attrs and "expires_at" in attrs:
            raise serializers.ValidationError(
                {"expires_at": "Send expires_in_days or expires_at, not both."}
            )
        return attrs
