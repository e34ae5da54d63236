"""API key authentication: `Authorization: Api-Key <key>` selects the tenant."""

from __future__ import annotations

import logging

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from tenancy import scope, services
from tenancy.models import ApiKey
from tenancy.selectors import api_key_for_secret

logger = logging.getLogger(__name__)

KEYWORD = "Api-Key"


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
        if keyword.lower() == "bearer":
            raise exceptions.AuthenticationFailed(
                "Track360 API keys are not bearer tokens: send 'Authorization: Api-Key <key>'."
            )
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
            logger.info("api_key.rejected reason=unknown length=%s", len(raw_key))
            raise exceptions.AuthenticationFailed(
                "The API key is invalid or revoked: create a new key in Settings → API keys."
            )
        now = timezone.now()
        if key.revoked_at is not None:
            logger.info("api_key.rejected reason=revoked api_key_id=%s", key.pk)
            raise exceptions.AuthenticationFailed(
                f"The API key {key.prefix}… was revoked on {key.revoked_at:%Y-%m-%d}: "
                "create a new key in Settings → API keys."
            )
        if key.is_expired(now):
            logger.info("api_key.rejected reason=expired api_key_id=%s", key.pk)
            raise exceptions.AuthenticationFailed(
                f"The API key {key.prefix}… expired at {key.expires_at:%Y-%m-%d %H:%M} UTC: "
                "create a new key in Settings → API keys."
            )

        services.api_key_mark_used(key=key, now=now)

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
