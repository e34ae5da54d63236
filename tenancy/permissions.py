"""Role checks for the dashboard pages: which membership roles may open which views."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from partners.models import Partner
from tenancy.models import Membership

logger = logging.getLogger(__name__)

Role = Membership.Role

STAFF_ROLES = tuple(Membership.STAFF_ROLES)
# Roles that may change data from the dashboard, such as uploading a CSV import.
EDITOR_ROLES = (Role.ADMIN, Role.PARTNER_MANAGER)
API_KEY_ROLES = (Role.ADMIN,)
PARTNER_ROLES = (Role.PARTNER,)

SAFE_METHODS = ("GET", "HEAD")

PARTNERSHIP_ENDED_MESSAGE = (
    "This partnership has ended, so the partner portal is closed. If you think this is "
    "a mistake, contact the partner manager of the program."
)


def has_role(membership: Membership | None, roles: Iterable[str]) -> bool:
    return membership is not None and membership.role in roles


def role_required(*roles: str) -> Callable:
    """Decorate a view so that only members of the request's tenant with one of `roles` reach it.

    Anonymous users are redirected to the login page and users without a membership
    get 403. A partner user who opens a staff page with GET is redirected to the
    partner portal, because the login redirect sends everyone to the dashboard first.
    Every other role mismatch gets 403.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            membership = request.membership
            if membership is None:
                raise PermissionDenied(
                    "Your user is not a member of any tenant: ask a tenant admin to add you."
                )
            if membership.role in roles:
                return view(request, *args, **kwargs)
            if membership.role == Role.PARTNER and request.method in SAFE_METHODS:
                return redirect("partners:portal")
            raise PermissionDenied(
                f"Your role '{membership.get_role_display()}' may not open this page: "
                "ask a tenant admin if you need it."
            )

        return wrapped

    return decorator


staff_required = role_required(*STAFF_ROLES)
editor_required = role_required(*EDITOR_ROLES)
api_key_admin_required = role_required(*API_KEY_ROLES)


def partnership_ended(membership: Membership | None) -> bool:
    """Return True for a partner user whose partner is terminated."""
    return (
        membership is not None
        and membership.partner_id is not None
        and membership.partner.status == Partner.Status.TERMINATED
    )


PARTNERSHIP_PENDING_MESSAGE = (
    "Your application is under review, so the partner portal opens once the program "
    "activates your partnership."
)
# Partner statuses before the partnership starts: the portal shows only the review page.
PENDING_STATUSES = (Partner.Status.PROSPECT, Partner.Status.APPLIED)


def partnership_pending(membership: Membership | None) -> bool:
    """Return True for a partner user whose partner is not active yet, such as an applicant."""
    return (
        membership is not None
        and membership.partner_id is not None
        and membership.partner.status in PENDING_STATUSES
    )


def partnership_ended_log(membership: Membership) -> None:
    logger.info(
        "portal.partnership_ended tenant_id=%s partner_id=%s user_id=%s",
        membership.tenant_id,
        membership.partner_id,
        membership.user_id,
    )


def partner_user_required(view: Callable | None = None, *, pending_view: bool = False):
    """Decorate a portal view: partner users only, and 403 once their partnership has ended.

    A paused partner's users still read the portal. The services reject their
    registrations and new links, because only active partners may make them.
    The users of a partner that is not active yet (an applicant under review)
    reach only the view marked `pending_view=True`, which must show them the
    review page itself: other portal pages redirect GET requests there and
    reject the rest with 403.
    """

    def decorator(inner: Callable) -> Callable:
        @wraps(inner)
        def checked(request, *args, **kwargs):
            membership = request.membership
            if partnership_ended(membership):
                partnership_ended_log(membership)
                raise PermissionDenied(PARTNERSHIP_ENDED_MESSAGE)
            if not pending_view and partnership_pending(membership):
                logger.info(
                    "portal.partnership_pending tenant_id=%s partner_id=%s user_id=%s",
                    membership.tenant_id,
                    membership.partner_id,
                    membership.user_id,
                )
                if request.method in SAFE_METHODS:
                    return redirect("partners:portal")
                raise PermissionDenied(PARTNERSHIP_PENDING_MESSAGE)
            return inner(request, *args, **kwargs)

        return role_required(*PARTNER_ROLES)(checked)

    if view is not None:
        return decorator(view)
    return decorator


def member_required(view: Callable) -> Callable:
    """Decorate a view that any member of any role may use, such as the tenant switcher."""
    return role_required(*Role.values)(view)


def page_permissions(membership: Membership | None) -> dict[str, bool]:
    """Return the flags templates use to show or hide actions the user may not take."""
    return {
        "can_edit": has_role(membership, EDITOR_ROLES),
        "can_manage_api_keys": has_role(membership, API_KEY_ROLES),
    }
