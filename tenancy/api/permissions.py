"""API permission: tenant staff with a session, or a tenant's API key."""

from rest_framework import permissions

from tenancy.models import Membership
from tenancy.permissions import PARTNERSHIP_ENDED_MESSAGE, partnership_ended, partnership_ended_log

WRITE_ROLES = (Membership.Role.ADMIN, Membership.Role.PARTNER_MANAGER)


class IsTenantMember(permissions.BasePermission):
    message = "Log in as a member of a tenant, or send 'Authorization: Api-Key <key>'."

    def has_permission(self, request, view) -> bool:
        tenant = getattr(request._request, "tenant", None)
        if tenant is None or not request.user or not request.user.is_authenticated:
            return False
        if request.auth is not None:
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
        return True


class IsTenantReader(IsTenantMember):
    """Allow every staff role, writers or not, for requests that change nothing.

    For a POST that only computes a report, such as simulating a commission plan.
    """

    def has_permission(self, request, view) -> bool:
        tenant = getattr(request._request, "tenant", None)
        if tenant is None or not request.user or not request.user.is_authenticated:
            return False
        if request.auth is not None:
            return True
        membership = request._request.membership
        return membership is not None and membership.is_staff_role
