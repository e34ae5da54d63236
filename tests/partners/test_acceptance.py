"""The e-mail an applicant gets when its partner moves from applied to active."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django.utils import timezone

from partners import applications
from partners.lifecycle import partner_status_change
from partners.models import Partner, PartnerApplication
from tenancy.models import Membership
from tests.factories import MembershipFactory, PartnerFactory, UserFactory

APPLICATION = {
    "company_name": "Northwind Consulting",
    "website": "northwind-consulting.com",
    "contact_name": "Jane Doe",
    "contact_email": "jane@northwind-consulting.com",
    "kind": "referral",
}


@pytest.fixture
def applicant(scoped):
    scoped.applications_open = True
    scoped.save()
    partner = applications.partner_apply(tenant=scoped, **APPLICATION).partner
    # A second application repeats the address in other case and adds a colleague.
    applications.partner_apply(
        tenant=scoped, **{**APPLICATION, "contact_email": "JANE@northwind-consulting.com"}
    )
    applications.partner_apply(
        tenant=scoped, **{**APPLICATION, "contact_email": "ops@northwind-consulting.com"}
    )
    # Jane and ops confirmed their addresses, and a third, unconfirmed address is left out.
    applications.partner_apply(
        tenant=scoped, **{**APPLICATION, "contact_email": "stranger@example.org"}
    )
    PartnerApplication.objects.exclude(contact_email="stranger@example.org").update(
        email_verified_at=timezone.now()
    )
    return partner


def activate(partner, admin_user, capture):
    with capture(execute=True):
        return partner_status_change(partner=partner, status="active", actor=admin_user)


def test_activation_emails_each_applicant_once(
    applicant, admin_user, django_capture_on_commit_callbacks
):
    activate(applicant, admin_user, django_capture_on_commit_callbacks)

    recipients = [message.to for message in mail.outbox]
    assert recipients == [["jane@northwind-consulting.com"], ["ops@northwind-consulting.com"]]
    message = mail.outbox[0]
    assert "accepted" in message.body
    assert "http://testserver/login/" in message.body
    assert applicant.tenant.name in message.subject


def test_activation_emails_portal_users(
    scoped, applicant, admin_user, django_capture_on_commit_callbacks
):
    user = UserFactory(username="sam", email="sam@northwind-consulting.com")
    MembershipFactory(tenant=scoped, user=user, role=Membership.Role.PARTNER, partner=applicant)

    activate(applicant, admin_user, django_capture_on_commit_callbacks)

    assert ["sam@northwind-consulting.com"] in [message.to for message in mail.outbox]
    assert len(mail.outbox) == 3


def test_repeated_activation_sends_nothing_more(
    applicant, admin_user, django_capture_on_commit_callbacks
):
    activate(applicant, admin_user, django_capture_on_commit_callbacks)
    mail.outbox.clear()

    activate(applicant, admin_user, django_capture_on_commit_callbacks)

    assert mail.outbox == []


def test_other_transitions_send_nothing(
    scoped, applicant, admin_user, django_capture_on_commit_callbacks
):
    activate(applicant, admin_user, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    prospect = PartnerFactory(status=Partner.Status.PROSPECT)

    with django_capture_on_commit_callbacks(execute=True):
        partner_status_change(partner=applicant, status="paused", actor=admin_user)
        partner_status_change(partner=applicant, status="active", actor=admin_user)
        partner_status_change(partner=prospect, status="active", actor=admin_user)
        partner_status_change(partner=prospect, status="terminated", actor=admin_user)

    assert mail.outbox == []


def test_activation_email_logged_with_ids(
    applicant, admin_user, django_capture_on_commit_callbacks, caplog
):
    with caplog.at_level(logging.INFO, logger="partners.acceptance"):
        activate(applicant, admin_user, django_capture_on_commit_callbacks)

    sent = [record.getMessage() for record in caplog.records]
    expected = (
        f"partner.acceptance_email_sent tenant_id={applicant.tenant_id} "
        f"partner_id={applicant.pk} recipients=2"
    )
    assert expected in sent
