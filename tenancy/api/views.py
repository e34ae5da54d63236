"""Base class of the tenant API views: authentication, tenant scope, permission, errors."""

from __future__ import annotations

import logging

from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.views import APIView

from tenancy import scope
from tenancy.api.authentication import ApiKeyAuthentication
from tenancy.api.errors import exception_handler
from tenancy.api.pagination import TenantPagination
from tenancy.api.permissions import IsPartnerUser, IsTenantMember
from tenancy.api.throttling import ApiKeyRateThrottle, SessionUserRateThrottle

logger = logging.getLogger(__name__)


class ErrorFieldSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.JSONField(required=False, help_text="The rejected value, when known.")
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The error body of every endpoint, as `tenancy.api.errors` builds it."""

    code = serializers.CharField(help_text="Such as invalid, not_found, conflict, forbidden.")
    message = serializers.CharField()
    field = serializers.CharField(required=False, help_text="The one field a domain error names.")
    value = serializers.JSONField(required=False)
    fix = serializers.CharField(required=False, help_text="What to change to succeed.")
    errors = ErrorFieldSerializer(
        many=True, required=False, help_text="One entry per invalid field of the request."
    )


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


# Errors every endpoint can return, for `extend_schema(responses=...)`.
AUTH_ERRORS = {
    401: error_response("No credentials, or an invalid, revoked or expired API key."),
    403: error_response(
        "The caller is not a staff member of the tenant, or may not write, or the API key "
        "lacks the scope (code scope_missing). On the portal endpoints: the caller is not "
        "a partner user, or the partnership has ended."
    ),
    429: error_response("Too many requests: retry after the `Retry-After` header's seconds."),
    500: error_response("The server failed; the body carries no detail, the server log does."),
}
READ_ERRORS = {**AUTH_ERRORS, 400: error_response("A query parameter is invalid.")}
DETAIL_ERRORS = {**AUTH_ERRORS, 404: error_response("The tenant has no object with this id.")}


class TenantApiView(APIView):
    """An API view that runs inside the request tenant's scope.

    The tenant comes from the API key or from the logged-in member's session.
    `initial` activates that tenant's scope after authentication and the
    permission check, and `dispatch` resets it when the response is ready, so
    every scoped query of the handler reads only the request tenant's rows.
    Subclasses read the tenant from `self.tenant` and never pass a tenant id
    from the request body or the URL.
    """

    authentication_classes = (ApiKeyAuthentication, SessionAuthentication)
    permission_classes = (IsTenantMember,)
    throttle_classes = (ApiKeyRateThrottle, SessionUserRateThrottle)
    pagination_class = TenantPagination

    tenant = None
    _scope_token = None

    def get_exception_handler(self):
        return exception_handler

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        tenant = getattr(request._request, "tenant", None)
        if tenant is None:
            # IsTenantMember rejects requests without a tenant, so this only runs
            # when a subclass replaces the permission classes.
            logger.error("api.tenant_missing view=%s", type(self).__name__)
            raise exceptions.PermissionDenied("No tenant is active for this request.")
        self.tenant = tenant
        self._scope_token = scope.activate(tenant.pk)

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            if self._scope_token is not None:
                scope.deactivate(self._scope_token)
                self._scope_token = None

    def actor(self):
        """Return who made the request: the logged-in user, or the API key's principal.

        Services record a user in their `*_by` fields and name a key in the audit
        trail's `actor_label`, such as "api-key:t360_ab12cd".
        """
        return self.request.user

    def query_params_validate(self, serializer_class: type[serializers.Serializer]) -> dict:
        """Validate the query string with `serializer_class` and return its data."""
        serializer = serializer_class(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def paginated_response(self, queryset, serializer_class: type[serializers.Serializer]):
        """Serialize one page of `queryset` with the view's `pagination_class` and its links."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        data = serializer_class(page, many=True).data
        return paginator.get_paginated_response(data)


class PartnerApiView(TenantApiView):
    """An API view for the partner portal: a partner user's session, scoped to their partner.

    The tenant scope is active as in `TenantApiView`, and `self.partner` is the
    membership's partner. Handlers filter by `self.partner` and never take a
    partner id from the request, so a partner user reads only its own rows.
    """

    authentication_classes = (SessionAuthentication,)
    permission_classes = (IsPartnerUser,)

    partner = None

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        partner = request._request.membership.partner
        # Nothing in the schema ties the membership's partner to the membership's
        # tenant, so a partner of another tenant is treated as missing.
        if partner.tenant_id != self.tenant.pk:
            logger.error(
                "api.portal_partner_outside_tenant tenant_id=%s partner_id=%s",
                self.tenant.pk,
                partner.pk,
            )
            raise exceptions.NotFound(
                "Your partner was not found in this tenant. "
                "Ask a tenant admin to fix your membership."
            )
        self.partner = partner
