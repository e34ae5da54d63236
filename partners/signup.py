"""Applicant sign-up: the e-mailed link that confirms the contact address and opens the portal.

A submission of the public form that created an applied partner, or that repeats
the contact address of the submission that did, gets a sign-up link by e-mail.
The link carries a signed key naming the application and expires after
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS. Opening it confirms the address as an
allauth EmailAddress and, for an address without a password yet, lets the
applicant choose one. The result is a user (username = the address, or a derived
unique name) with a partner-role membership of the applied partner. The portal
shows that user the "under review" page until a manager activates the partner.

Completing the sign-up twice changes nothing the second time, and one address
never becomes two users.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from allauth.account import app_settings as account_settings
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from partners.models import Partner, PartnerApplication
from tenancy.errors import Conflict, DomainError
from tenancy.invitations import user_by_email
from tenancy.models import Membership, Tenant
from tenancy.services import audit_record

logger = logging.getLogger(__name__)

SIGNUP_SALT = "partners.signup"
# The audit trail's actor label for changes the applicant makes through the link.
ACTOR_LABEL = "applicant-signup"
USERNAME_MAX_LENGTH = 150


class SignupLinkInvalid(Exception):
    """The key was altered, truncated or names an application that no longer exists."""


class SignupLinkExpired(Exception):
    """The key is genuine but older than ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS."""


@dataclass
class SignupState:
    """The step the sign-up page offers for one application's contact address."""

    # One of:
    #   "password": no account with a password yet, so the applicant chooses one.
    #   "confirm": the address has an account with a password, and confirming adds
    #     the portal to it.
    #   "done": the portal access exists already.
    #   "taken": the account has another role in this program.
    #   "closed": the partner was terminated.
    step: str
    user: object | None
    membership: Membership | None


@dataclass
class SignupResult:
    user: object
    membership: Membership
    created_user: bool
    created_membership: bool


def link_days() -> int:
    return account_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS


def signup_offered(*, application: PartnerApplication) -> bool:
    """Return True when this submission may lead to portal access for its contact address.

    Only a partner the form created and that still waits for review qualifies, and
    only for the contact address of the submission that created it. Anyone can
    type any website into the form, so a later address must not reach the portal
    of a partner that someone else applied as.
    """
    partner = application.partner
    if partner.status != Partner.Status.APPLIED:
        return False
    if partner.external_id != f"apply-{application.domain}":
        return False
    first = PartnerApplication.objects.filter(partner=partner).order_by("created_at", "pk").first()
    return first is not None and first.contact_email.lower() == application.contact_email.lower()


def signup_key(application: PartnerApplication) -> str:
    return signing.dumps(
        {"tenant": application.tenant_id, "application": application.pk}, salt=SIGNUP_SALT
    )


def signup_key_load(*, tenant: Tenant, key: str) -> PartnerApplication:
    """Return the application a key names; call inside the tenant's scope.

    Raises SignupLinkExpired for a genuine key past its age and SignupLinkInvalid
    for any other bad key, including one of another tenant.
    """
    try:
        payload = signing.loads(key, salt=SIGNUP_SALT, max_age=link_days() * 86400)
    except signing.SignatureExpired:
        raise SignupLinkExpired from None
    except signing.BadSignature:
        raise SignupLinkInvalid from None
    if not isinstance(payload, dict) or payload.get("tenant") != tenant.pk:
        raise SignupLinkInvalid
    application = (
        PartnerApplication.objects.select_related("partner")
        .filter(pk=payload.get("application"), signup_sent_at__isnull=False)
        .first()
    )
    if application is None:
        raise SignupLinkInvalid
    return application


def signup_link(application: PartnerApplication, tenant: Tenant) -> str:
    path = reverse("partner_signup_confirm", args=[tenant.slug, signup_key(application)])
    return f"{settings.TRACK360_BASE_URL}{path}"


def _email(application: PartnerApplication) -> str:
    return application.contact_email.strip().lower()


def signup_state(*, application: PartnerApplication) -> SignupState:
    """Return what the sign-up page offers now, without changing anything."""
    if application.partner.status == Partner.Status.TERMINATED:
        return SignupState(step="closed", user=None, membership=None)
    with transaction.atomic():
        user = user_by_email(_email(application))
    if user is None:
        return SignupState(step="password", user=None, membership=None)
    membership = Membership.objects.filter(tenant_id=application.tenant_id, user=user).first()
    if membership is not None and membership.partner_id != application.partner_id:
        return SignupState(step="taken", user=user, membership=membership)
    if membership is not None and user.has_usable_password():
        return SignupState(step="done", user=user, membership=membership)
    if user.has_usable_password():
        return SignupState(step="confirm", user=user, membership=membership)
    return SignupState(step="password", user=user, membership=membership)


def _free_username(email: str) -> str:
    users = get_user_model().objects
    base = email[:USERNAME_MAX_LENGTH]
    if not users.filter(username=base).exists():
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = f"{email[: USERNAME_MAX_LENGTH - len(suffix)]}{suffix}"
        if not users.filter(username=candidate).exists():
            return candidate
        number += 1


def _email_address_verify(user, email: str) -> None:
    """Record `email` as a verified allauth address of `user`, primary if it has none."""
    address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
    if address is None:
        has_primary = EmailAddress.objects.filter(user=user, primary=True).exists()
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=not has_primary)
    elif not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])


def applicant_signup_complete(
    *, application: PartnerApplication, password: str | None
) -> SignupResult:
    """Confirm the contact address of `application` and give it the partner's portal.

    `password` is required when the address has no account with a password yet,
    and ignored otherwise, so a sign-up link never replaces a password someone
    already chose. The view validates it against AUTH_PASSWORD_VALIDATORS first.
    Raises Conflict when the partner was terminated or when the address belongs
    to a staff member or another partner's user in this program, and DomainError
    when a needed password is missing.
    """
    email = _email(application)
    tenant_id = application.tenant_id
    with transaction.atomic():
        # Locking the partner serialises two submits of one link, so both cannot
        # create a user.
        partner = Partner.objects.select_for_update().get(pk=application.partner_id)
        if partner.status == Partner.Status.TERMINATED:
            raise Conflict(
                "This application was closed.",
                field="application",
                value=application.pk,
                fix="Contact the program's team if you want to apply again.",
            )
        user = user_by_email(email)
        created_user = user is None
        needs_password = user is None or not user.has_usable_password()
        if needs_password and not password:
            raise DomainError(
                "The password is missing.",
                field="new_password1",
                value="",
                fix="Choose a password for your account.",
            )
        if user is None:
            user = get_user_model().objects.create_user(
                username=_free_username(email), email=email, password=password
            )
        elif not user.has_usable_password():
            user.set_password(password)
            user.save(update_fields=["password"])

        membership = Membership.objects.filter(tenant_id=tenant_id, user=user).first()
        if membership is not None and membership.partner_id != partner.pk:
            raise Conflict(
                f"{email} already has another role in this program.",
                field="email",
                value=email,
                fix="Log in with that account, or apply with a different contact address.",
            )
        created_membership = membership is None
        if created_membership:
            membership = Membership.objects.create(
                tenant_id=tenant_id, user=user, role=Membership.Role.PARTNER, partner=partner
            )
            audit_record(
                tenant_id=tenant_id,
                actor=ACTOR_LABEL,
                event="membership.signed_up",
                obj=membership,
                after={"user_id": user.pk, "partner_id": partner.pk, "role": membership.role},
            )
        _email_address_verify(user, email)
        verified = PartnerApplication.objects.filter(
            partner=partner, contact_email__iexact=email, email_verified_at__isnull=True
        ).update(email_verified_at=timezone.now())
    logger.info(
        "partner.signup_completed tenant_id=%s partner_id=%s application_id=%s user_id=%s "
        "created_user=%s created_membership=%s applications_verified=%s",
        tenant_id,
        partner.pk,
        application.pk,
        user.pk,
        created_user,
        created_membership,
        verified,
    )
    return SignupResult(
        user=user,
        membership=membership,
        created_user=created_user,
        created_membership=created_membership,
    )


def signup_email_send(*, tenant_id: int, application_id: int) -> bool:
    """E-mail the sign-up link of one application; return False when it no longer exists."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    application = (
        PartnerApplication.all_tenants.select_related("partner")
        .filter(tenant_id=tenant_id, pk=application_id, signup_sent_at__isnull=False)
        .first()
    )
    if tenant is None or application is None:
        logger.info(
            "partner.signup_email_skipped tenant_id=%s application_id=%s",
            tenant_id,
            application_id,
        )
        return False
    login_url = f"{settings.TRACK360_BASE_URL}{reverse('login')}"
    body = (
        f"Thank you for applying to {tenant.name}'s partner program as "
        f"{application.company_name}.\n\n"
        "Confirm this e-mail address and choose your password at\n"
        f"{signup_link(application, tenant)}\n"
        f"The link works for {link_days()} days. If you already have an account with this "
        f"address, the link adds the program to it and you keep your password.\n\n"
        f"Then log in at {login_url} to follow your application. The team will review it "
        "and open the full partner portal once your partnership starts.\n\n"
        "If you did not apply, ignore this message: nothing happens without the link.\n"
    )
    send_mail(
        subject=f"Confirm your e-mail address for {tenant.name}'s partner program",
        message=body,
        from_email=None,
        recipient_list=[application.contact_email],
    )
    logger.info(
        "partner.signup_email_sent tenant_id=%s partner_id=%s application_id=%s",
        tenant_id,
        application.partner_id,
        application.pk,
    )
    return True


def signup_email_enqueue(*, application: PartnerApplication) -> None:
    """Mark the application as offered a sign-up and send the link after the commit."""
    from partners.tasks import send_signup_email_task
    from tenancy.queue import enqueue_on_commit

    application.signup_sent_at = timezone.now()
    application.save(update_fields=["signup_sent_at", "updated_at"])
    enqueue_on_commit(send_signup_email_task, application.tenant_id, application.pk)


def signup_link_resend(*, tenant: Tenant, email: str) -> bool:
    """Send a new link for the latest application of `email` that offered one.

    Returns False when there is none. Callers show the same page either way, so
    the form does not reveal which addresses applied. Call inside the tenant's scope.
    """
    email = (email or "").strip()
    application = (
        PartnerApplication.objects.filter(contact_email__iexact=email, signup_sent_at__isnull=False)
        .order_by("-created_at", "-pk")
        .first()
    )
    if application is None:
        logger.info("partner.signup_resend_unknown tenant_id=%s", tenant.pk)
        return False
    with transaction.atomic():
        signup_email_enqueue(application=application)
    logger.info("partner.signup_resend tenant_id=%s application_id=%s", tenant.pk, application.pk)
    return True
