"""Staff members of a tenant: invitations by e-mail, role changes and removal.

A staff invitation creates the user when the address is new (the e-mail address is
the username) and a staff membership, then e-mails a link where the user chooses
a password, as partner invitations do. A tenant keeps at least one admin: the
services reject removing or demoting the last one. Memberships of the same user
in other tenants are never read or changed here.
"""

from __future__ import annotations

import logging

from allauth.mfa.models import Authenticator
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from tenancy.errors import Conflict, DomainError, NotFound
from tenancy.invitations import email_checked, invited_user
from tenancy.models import Membership, Tenant
from tenancy.queue import enqueue_on_commit
from tenancy.services import audit_record

logger = logging.getLogger(__name__)

Role = Membership.Role
STAFF_ROLES = tuple(Membership.STAFF_ROLES)


def staff_member_list(*, tenant: Tenant) -> list[Membership]:
    """Return the tenant's staff memberships with their users, admins first, then by e-mail.

    Each membership carries `two_factor`: whether its user has turned on an
    authenticator app (TOTP).
    """
    order = {Role.ADMIN: 0, Role.PARTNER_MANAGER: 1, Role.ANALYST: 2}
    totp = Authenticator.objects.filter(user=OuterRef("user"), type=Authenticator.Type.TOTP)
    rows = (
        Membership.objects.filter(tenant=tenant, role__in=STAFF_ROLES)
        .select_related("user")
        .annotate(two_factor=Exists(totp))
    )
    return sorted(rows, key=lambda m: (order[m.role], m.user.email.lower(), m.pk))


def staff_member_get(*, tenant: Tenant, pk: int) -> Membership:
    """Return the tenant's staff membership `pk`, or raise NotFound.

    Partner users and other tenants' members raise NotFound as well, so a guessed
    id reveals nothing.
    """
    membership = (
        Membership.objects.select_related("user")
        .filter(tenant=tenant, role__in=STAFF_ROLES, pk=pk)
        .first()
    )
    if membership is None:
        raise NotFound(
            "No staff member of this tenant has this id.",
            field="id",
            value=pk,
            fix="Open Settings → Users to pick a member from the list.",
        )
    return membership


def _staff_role_checked(role) -> str:
    if role not in STAFF_ROLES:
        raise DomainError(
            f"The role {role!r} is not a staff role.",
            field="role",
            value=role,
            fix="Choose admin, partner manager or analyst. Partner users are invited from "
            "their partner's page.",
        )
    return role


def _lock_with_admins(membership: Membership) -> tuple[Membership, int]:
    """Lock `membership` and the tenant's admins; return the locked row and the other admins.

    All rows are locked in one query in primary key order, so two admins who demote
    each other at the same time queue up instead of deadlocking. The second one
    then reads the first one's change and cannot leave the tenant without an admin.
    """
    rows = list(
        Membership.objects.select_for_update()
        .select_related("user", "tenant")
        .filter(tenant_id=membership.tenant_id)
        .filter(Q(role=Role.ADMIN) | Q(pk=membership.pk))
        .order_by("pk")
    )
    locked = next((row for row in rows if row.pk == membership.pk), None)
    if locked is None:
        raise NotFound(
            "The member is not found: another admin removed them.",
            field="id",
            value=membership.pk,
            fix="Reload Settings → Users to see the current members.",
        )
    other_admins = sum(1 for row in rows if row.role == Role.ADMIN and row.pk != locked.pk)
    return locked, other_admins


def _last_admin_error(membership: Membership, action: str) -> DomainError:
    return DomainError(
        f"{membership.user.get_username()} is the last admin of {membership.tenant.name}, "
        f"so they cannot be {action}.",
        field="role",
        value=membership.role,
        fix="Make another member an admin first.",
    )


def staff_user_invite(*, tenant: Tenant, email: str, role: str, actor) -> Membership:
    """Give `email` the staff `role` in `tenant` and send the invitation; return the membership.

    Raises Conflict when the address already belongs to a member of this tenant,
    whatever the role, because a user has one role per tenant. An account that
    exists for another tenant is reused and its other memberships stay as they are.
    """
    email = email_checked(email)
    role = _staff_role_checked(role)
    with transaction.atomic():
        user = invited_user(email)
        existing = Membership.objects.filter(tenant=tenant, user=user).first()
        if existing is not None:
            raise Conflict(
                f"{email} is already a member of {tenant.name} as "
                f"{existing.get_role_display().lower()}.",
                field="email",
                value=email,
                fix="Change the member's role in the list below instead.",
            )
        membership = Membership.objects.create(tenant=tenant, user=user, role=role)
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            event="membership.invited",
            obj=membership,
            after={"user": email, "role": role},
        )
        from tenancy.tasks import send_invitation_task

        enqueue_on_commit(send_invitation_task, membership.pk)
    logger.info(
        "membership.staff_invited tenant_id=%s membership_id=%s user_id=%s role=%s",
        tenant.pk,
        membership.pk,
        user.pk,
        role,
    )
    return membership


def staff_member_role_set(*, membership: Membership, role: str, actor) -> Membership:
    """Change a staff member's role; the last admin of the tenant cannot be demoted."""
    role = _staff_role_checked(role)
    with transaction.atomic():
        locked, other_admins = _lock_with_admins(membership)
        before = locked.role
        if before == role:
            return locked
        if before == Role.ADMIN and not other_admins:
            logger.info(
                "membership.role_change_rejected tenant_id=%s membership_id=%s reason=last_admin",
                locked.tenant_id,
                locked.pk,
            )
            raise _last_admin_error(locked, "demoted")
        locked.role = role
        locked.save(update_fields=["role", "updated_at"])
        audit_record(
            tenant_id=locked.tenant_id,
            actor=actor,
            event="membership.role_changed",
            obj=locked,
            before={"role": before},
            after={"role": role, "user": membership.user.get_username()},
        )
    logger.info(
        "membership.role_changed tenant_id=%s membership_id=%s from=%s to=%s",
        locked.tenant_id,
        locked.pk,
        before,
        role,
    )
    return locked


def staff_member_remove(*, membership: Membership, actor) -> None:
    """Remove a staff member from the tenant; the user account and other tenants stay."""
    with transaction.atomic():
        locked, other_admins = _lock_with_admins(membership)
        if locked.role == Role.ADMIN and not other_admins:
            logger.info(
                "membership.remove_rejected tenant_id=%s membership_id=%s reason=last_admin",
                locked.tenant_id,
                locked.pk,
            )
            raise _last_admin_error(locked, "removed")
        audit_record(
            tenant_id=locked.tenant_id,
            actor=actor,
            event="membership.removed",
            obj=locked,
            before={"user": membership.user.get_username(), "role": locked.role},
        )
        membership_id = locked.pk
        locked.delete()
    logger.info(
        "membership.removed tenant_id=%s membership_id=%s user_id=%s",
        membership.tenant_id,
        membership_id,
        membership.user_id,
    )
