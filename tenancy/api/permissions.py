"""API permissions: tenant staff with a session, or a tenant's API key with the needed scope."""

from rest_framework import permissions

from tenancy.api.scopes import READ, WRITE, scope_require
from tenancy.models import Membership
from tenancy.permissions import (
    PARTNERSHIP_ENDED_MESSAGE,
    PARTNERSHIP_PENDING_MESSAGE,
    partnership_ended,
    partnership_ended_log,
    partnership_pending,
)

WRITE_ROLES = (Membership.Role.ADMIN, Membership.Role.PARTNER_MANAGER)


def api_key_scope_require(request, view, access: str) -> None:
    """Raise ScopeMissing unless the request's API key has `access` to the view's group."""
    scope_require(
        key=request.auth, view=view, method=request.method, path=request.path, access=access
    )


class IsTenantMember(permissions.BasePermission):
    message = "Log in as a member of a tenant, or send 'Authorization: Api-Key <key>'."

    def has_permission(self, request, view) -> bool:
        tenant = getattr(request._request, "tenant", None)
        if tenant is None or not request.user or not request.user.is_authenticated:
            return False
        if request.auth is not None:
            access = READ if request.method in permissions.SAFE_METHODS else WRITE
            api_key_scope_require(request, view, access)
            return True
        membership = request._request.membership
        if membership is None or not membership.is_staff_role:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        if membership.role not in WRITE_ROLES:
            self.message = (
                f"Your role '{membership.get_role_display()}' may read but not change data: "
                "ask an admin or partner manager, or use an API key."
            )
            return False
        return True


class IsTenantReader(IsTenantMember):
    """Allow every staff role, also on POST: for requests that compute a reply and write nothing."""

    def has_permission(self, request, view) -> bool:
        tenant = getattr(request._request, "tenant", None)
        if tenant is None or not request.user or not request.user.is_authenticated:
            return False
        if request.auth is not None:
            api_key_scope_require(request, view, READ)
            return True
        membership = request._request.membership
        return membership is not None and membership.is_staff_role


class IsTenantAdminSession(permissions.BasePermission):
    """Allow only a tenant admin's session: for managing API keys.

    API keys are rejected, even with `*:write`, so a leaked key cannot mint new keys
    or revoke the keys of other integrations.
    """

    message = "Log in as an admin of the tenant to manage API keys."

    def has_permission(self, request, view) -> bool:
        tenant = getattr(request._request, "tenant", None)
        if tenant is None or not request.user or not request.user.is_authenticated:
            return False
        if request.auth is not None:
            self.message = (
                "API keys cannot list, create or revoke API keys: log in as a tenant admin "
                "and use Settings → API keys or this endpoint with your session."
            )
            return False
        membership = request._request.membership
        return membership is not None and membership.role == Membership.Role.ADMIN


class IsPartnerUser(permissions.BasePermission):
    """Allow only a partner user's session; API keys and staff use the tenant API."""

    message = "Log in as a partner user: this part of the API serves the partner portal."

    def has_permission(self, request, view) -> bool:
        tenant = getattr(request._request, "tenant", None)
        if tenant is None or not request.user or not request.user.is_authenticated:
            return False
        if request.auth is not None:
            return False
        membership = request._request.membership
        if membership is None or membership.role != Membership.Role.PARTNER:
            return False
        if partnership_ended(membership):
            partnership_ended_log(membership)
            self.message = PARTNERSHIP_ENDED_MESSAGE
            return False
        if partnership_pending(membership):
            self.message = PARTNERSHIP_PENDING_MESSAGE
            return False
        return True
