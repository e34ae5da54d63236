"""API views of the tenant's API keys: list, create and revoke, for admins' sessions."""

from __future__ import annotations

import datetime

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from tenancy import selectors, services
from tenancy.api.key_serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyInputSerializer,
    ApiKeyOutputSerializer,
)
from tenancy.api.permissions import IsTenantAdminSession
from tenancy.api.scopes import API_KEYS_GROUP
from tenancy.api.views import AUTH_ERRORS, DETAIL_ERRORS, TenantApiView, error_response
from tenancy.models import ApiKey
from tenancy.shortcuts import get_for_tenant_or_404

SESSION_ONLY = (
    "Needs a tenant admin's session: API keys are rejected with 403, even with *:write, "
    "so a leaked key cannot create keys or revoke other integrations' keys."
)


class ApiKeyListView(TenantApiView):
    """List the tenant's API keys, and create one."""

    permission_classes = (IsTenantAdminSession,)
    scope_group = API_KEYS_GROUP

    @extend_schema(
        operation_id="api_keys_list",
        tags=["api keys"],
        summary="List API keys, live ones first",
        description=SESSION_ONLY,
        responses={200: ApiKeyOutputSerializer(many=True), **AUTH_ERRORS},
    )
    def get(self, request):
        return self.paginated_response(selectors.api_key_list(), ApiKeyOutputSerializer)

    @extend_schema(
        operation_id="api_keys_create",
        tags=["api keys"],
        summary="Create an API key; the response has the raw key, once",
        description=(
            f"{SESSION_ONLY} The response's key field is the only copy of the raw key. "
            "A name that a key of the tenant already has, revoked or not, returns 409."
        ),
        request=ApiKeyInputSerializer,
        responses={
            201: ApiKeyCreatedSerializer,
            400: error_response("A scope, the expiry or the rate is invalid."),
            409: error_response("The tenant already has a key with this name."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = ApiKeyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        expires_at = data.get("expires_at")
        if "expires_in_days" in data:
            expires_at = timezone.now() + datetime.timedelta(days=data["expires_in_days"])
        key, raw_key = services.api_key_create(
            tenant=self.tenant,
            name=data["name"],
            actor=self.actor(),
            scopes=data["scopes"],
            expires_at=expires_at,
            rate=data.get("rate", ""),
        )
        body = ApiKeyOutputSerializer(key).data
        body["key"] = raw_key
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyRevokeView(TenantApiView):
    """Revoke one API key."""

    permission_classes = (IsTenantAdminSession,)
    scope_group = API_KEYS_GROUP

    @extend_schema(
        operation_id="api_keys_revoke",
        tags=["api keys"],
        summary="Revoke an API key",
        description=(
            f"{SESSION_ONLY} Requests with the key get 401 from then on. Revoking a revoked "
            "key changes nothing and returns it as it is."
        ),
        request=None,
        responses={200: ApiKeyOutputSerializer, **DETAIL_ERRORS},
    )
    def post(self, request, pk: int):
        key = get_for_tenant_or_404(ApiKey, pk=pk)
        key = services.api_key_revoke(key=key, actor=self.actor())
        return Response(ApiKeyOutputSerializer(key).data)
