"""Resolve the request's tenant once and activate the tenant scope for the request."""

from __future__ import annotations

from tenancy import scope
from tenancy.selectors import membership_for_user

SESSION_TENANT_KEY = "tenant_id"


class TenantMiddleware:
    """Set `request.tenant` and `request.membership` from the logged-in user.

    A user in several tenants picks one with the tenant switcher, which stores its
    id in the session. API requests authenticated by key get their tenant from the
    key instead (see `tenancy.api.authentication`).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.membership = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            membership = membership_for_user(
                user=user, tenant_id=request.session.get(SESSION_TENANT_KEY)
            )
            if membership is None and request.session.get(SESSION_TENANT_KEY) is not None:
                membership = membership_for_user(user=user, tenant_id=None)
            if membership is not None:
                request.tenant = membership.tenant
                request.membership = membership

        token = scope.activate(request.tenant.pk if request.tenant else None)
        try:
            return self.get_response(request)
        finally:
            scope.deactivate(token)
