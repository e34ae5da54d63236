"""The e-mail sent to an applicant when its partnership is accepted.

When a partner moves from applied to active, the confirmed contact addresses of
its applications and its portal users get one message each with the portal's
log-in link. Unconfirmed addresses get nothing, because anyone can type any
address into the public form. A partner can move from applied to active only
once, because no status leads back to applied, so each partner gets this message
at most once.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from partners.models import Partner, PartnerApplication
from tenancy.models import Membership
from tenancy.queue import enqueue_on_commit

logger = logging.getLogger(__name__)


def acceptance_recipients(partner: Partner) -> list[str]:
    """Return the applicants' confirmed contact addresses and the portal users' addresses.

    Addresses are compared without case and kept in the order first seen, with
    application contacts first, oldest application first.
    """
    contacts = (
        PartnerApplication.all_tenants.filter(
            tenant_id=partner.tenant_id, partner_id=partner.pk, email_verified_at__isnull=False
        )
        .order_by("created_at", "pk")
        .values_list("contact_email", flat=True)
    )
    users = (
        Membership.objects.filter(
            tenant_id=partner.tenant_id,
            partner_id=partner.pk,
            role=Membership.Role.PARTNER,
            user__is_active=True,
        )
        .exclude(user__email="")
        .order_by("pk")
        .values_list("user__email", flat=True)
    )
    recipients: dict[str, str] = {}
    for address in [*contacts, *users]:
        recipients.setdefault(address.strip().lower(), address.strip())
    return list(recipients.values())


def acceptance_email_enqueue(*, partner: Partner) -> None:
    """Send the acceptance e-mail of `partner` from the worker once the transaction commits."""
    from partners.tasks import send_acceptance_email_task

    enqueue_on_commit(send_acceptance_email_task, partner.tenant_id, partner.pk)


def acceptance_email_send(*, tenant_id: int, partner_id: int) -> int:
    """E-mail each recipient of an accepted partner; return how many messages were sent.

    Sends nothing when the partner no longer exists or was terminated in the meantime.
    """
    partner = (
        Partner.all_tenants.select_related("tenant")
        .filter(tenant_id=tenant_id, pk=partner_id)
        .first()
    )
    if partner is None or partner.status == Partner.Status.TERMINATED:
        logger.info(
            "partner.acceptance_email_skipped tenant_id=%s partner_id=%s reason=%s",
            tenant_id,
            partner_id,
            "not_found" if partner is None else "terminated",
        )
        return 0
    recipients = acceptance_recipients(partner)
    if not recipients:
        logger.info(
            "partner.acceptance_email_skipped tenant_id=%s partner_id=%s reason=no_recipients",
            tenant_id,
            partner_id,
        )
        return 0

    program = partner.tenant.name
    login_url = f"{settings.TRACK360_BASE_URL}{reverse('login')}"
    body = (
        f"{program} accepted {partner.name} as a partner.\n\n"
        f"Log in at {login_url} to open the partner portal: there you find the companies "
        "to bring forward, your tracking links and your commissions.\n\n"
        "If you have no password yet, use the sign-up link from the e-mail you got when "
        "you applied, or choose “Forgot your password?” on the log-in page.\n"
    )
    # One message per address keeps the recipients hidden from each other.
    for address in recipients:
        send_mail(
            subject=f"Welcome to {program}'s partner program",
            message=body,
            from_email=None,
            recipient_list=[address],
        )
    logger.info(
        "partner.acceptance_email_sent tenant_id=%s partner_id=%s recipients=%s",
        tenant_id,
        partner_id,
        len(recipients),
    )
    return len(recipients)
