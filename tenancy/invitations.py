"""Portal access for partner users: invitations by e-mail and removal.

An invitation creates the user (the e-mail address is the username) and a partner
membership, then e-mails a link to Django's password-reset confirmation page, where
the new user chooses a password. Inviting the same address to the same partner
again sends a fresh link and changes nothing else. Staff invitations
(`tenancy.members`) send their e-mail through `invitation_send` as well.
"""

from __future__ import annotations

import logging

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tenancy.errors import Conflict, DomainError
from tenancy.models import Membership, Tenant
from tenancy.queue import enqueue_on_commit
from tenancy.services import audit_record

logger = logging.getLogger(__name__)

MAX_EMAIL_LENGTH = 150


def email_checked(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError(
            "The e-mail address is not valid.",
            field="email",
            value=email,
            fix="Enter the person's work address, such as jane@acme.com.",
        ) from None
    if len(email) > MAX_EMAIL_LENGTH:
        raise DomainError(
            f"The e-mail address is {len(email)} characters long.",
            field="email",
            value=email,
            fix=f"Use an address of at most {MAX_EMAIL_LENGTH} characters.",
        )
    return email


def user_by_email(email: str):
    """Return the user who verified `email`, else whose username it is, else its only user.

    Locks the user row, so the caller must be inside a transaction.
    """
    users = get_user_model().objects.select_for_update()
    verified = (
        EmailAddress.objects.filter(email__iexact=email, verified=True).values("user_id").first()
    )
    if verified is not None:
        return users.get(pk=verified["user_id"])
    user = users.filter(username=email).first()
    if user is not None:
        return user
    matches = list(users.filter(email__iexact=email)[:2])
    return matches[0] if len(matches) == 1 else None


def invited_user(email: str):
    """Return the user of `email`, creating one without a usable password if none exists.

    The invitation link lets a new user choose the password. Locks an existing user
    row, so the caller must be inside a transaction.
    """
    user = user_by_email(email)
    if user is None:
        user = get_user_model().objects.create_user(username=email, email=email)
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def partner_user_invite(*, tenant: Tenant, partner, email: str, actor) -> tuple[Membership, bool]:
    """Give `email` portal access to `partner`, send the invitation, return `(membership, created)`.

    Raises Conflict when the address already belongs to a staff member of the tenant
    or to a user of another partner, because a user has one role per tenant.
    """
    email = email_checked(email)
    with transaction.atomic():
        user = invited_user(email)
        existing = Membership.objects.filter(tenant=tenant, user=user).first()
        if existing is not None and existing.partner_id != partner.pk:
            holder = "a staff member" if existing.is_staff_role else "a user of another partner"
            raise Conflict(
                f"{email} is already {holder} in {tenant.name}.",
                field="email",
                value=email,
                fix="Invite a different address: a user has one role in each program.",
            )
        created = existing is None
        if created:
            membership = Membership.objects.create(
                tenant=tenant, user=user, role=Membership.Role.PARTNER, partner=partner
            )
            audit_record(
                tenant_id=tenant.pk,
                actor=actor,
                event="membership.invited",
                obj=membership,
                after={"user": email, "partner_id": partner.pk, "role": Membership.Role.PARTNER},
            )
        else:
            membership = existing
        from tenancy.tasks import send_invitation_task

        enqueue_on_commit(send_invitation_task, membership.pk)
    logger.info(
        "membership.invited tenant_id=%s partner_id=%s membership_id=%s created=%s",
        tenant.pk,
        partner.pk,
        membership.pk,
        created,
    )
    return membership, created


def partner_user_remove(*, membership: Membership, actor) -> None:
    """Remove a partner user's portal access to this tenant; the user account stays."""
    if membership.role != Membership.Role.PARTNER:
        raise DomainError(
            "Only partner users can be removed here.",
            field="membership",
            value=membership.pk,
            fix="Change staff roles in the admin.",
        )
    with transaction.atomic():
        audit_record(
            tenant_id=membership.tenant_id,
            actor=actor,
            event="membership.removed",
            obj=membership,
            before={"user": membership.user.get_username(), "partner_id": membership.partner_id},
        )
        membership.delete()
    logger.info(
        "membership.removed tenant_id=%s membership_id=%s", membership.tenant_id, membership.pk
    )


def invitation_link(user) -> str:
    """Return the absolute link where `user` sets a password, valid for PASSWORD_RESET_TIMEOUT."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return f"{settings.TRACK360_BASE_URL}{path}"


def invitation_send(*, membership_id: int) -> bool:
    """E-mail the invitation of one membership; return False when it no longer exists."""
    membership = (
        Membership.objects.select_related("user", "tenant", "partner")
        .filter(pk=membership_id)
        .first()
    )
    if membership is None:
        logger.info("membership.invitation_skipped membership_id=%s", membership_id)
        return False
    user = membership.user
    login_url = f"{settings.TRACK360_BASE_URL}{reverse('login')}"
    if user.has_usable_password():
        action = f"Log in at {login_url} with your existing password."
    else:
        days = settings.PASSWORD_RESET_TIMEOUT // 86400
        action = (
            f"Choose your password at {invitation_link(user)} (the link works for {days} days), "
            f"then log in at {login_url} with the username {user.get_username()}."
        )
    if membership.role == Membership.Role.PARTNER:
        subject = f"Your access to {membership.tenant.name}'s partner portal"
        body = (
            f"{membership.tenant.name} gave you access to its partner portal as "
            f"{membership.partner.name}. There you find the companies to bring forward, "
            f"register referrals and follow your commissions.\n\n{action}\n"
        )
    else:
        subject = f"Your access to {membership.tenant.name} in Track360"
        body = (
            f"You were added to {membership.tenant.name}'s partner program in Track360 "
            f"as {membership.get_role_display().lower()}.\n\n{action}\n"
        )
    send_mail(
        subject=subject,
        message=body,
        from_email=None,
        recipient_list=[user.email],
    )
    logger.info(
        "membership.invitation_sent tenant_id=%s membership_id=%s",
        membership.tenant_id,
        membership.pk,
    )
    return True
