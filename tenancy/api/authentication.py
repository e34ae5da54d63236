"""API key authentication: `Authorization: Api-Key <key>` selects the tenant."""

from __future__ import annotations

import logging

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from tenancy import scope
from tenancy.models import ApiKey
from tenancy.selectors import api_key_for_secret

logger = logging.getLogger(__name__)

KEYWORD = "Api-Key"
# Only write `last_used_at` when it is older than this, to keep reads cheap.
LAST_USED_RESOLUTION_SECONDS = 60


class ApiKeyPrincipal:
    """The caller of an API-key request: an integration, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, key: ApiKey):
        self.key = key

    def get_username(self) -> str:
        return f"api-key:{self.key.prefix}"

    def __str__(self) -> str:
        return self.get_username()


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, raw_key = header.partition(" ")
        if keyword != KEYWORD:
            return None
        raw_key = raw_key.strip()
        if not raw_key:
            raise exceptions.AuthenticationFailed(
                "The Authorization header has no key: send 'Api-Key <key>'."
            )
        key = api_key_for_secret(raw_key=raw_key)
        if key is None:
            # Never log the presented key, not even part of it: it may be a real key
            # with a typo.
            logger.info("api_key.rejected length=%s", len(raw_key))
            raise exceptions.AuthenticationFailed(
                "The API key is invalid or revoked: create a new key in Settings → API keys."
            )

        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > (
            LAST_USED_RESOLUTION_SECONDS
        ):
            ApiKey.all_tenants.filter(pk=key.pk).update(last_used_at=now)

        # The tenant middleware has already run; the key overrides its choice.
        django_request = request._request
        django_request.tenant = key.tenant
        django_request.membership = None
        scope.activate(key.tenant_id)
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request) -> str:
        return KEYWORD


class ApiKeySchema(OpenApiAuthenticationExtension):
    target_class = "tenancy.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Send `Api-Key <key>`.",
        }
