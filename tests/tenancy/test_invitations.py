"""Portal invitations: membership, e-mail with a working link, conflicts and removal."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from tenancy import invitations
from tenancy.errors import Conflict, DomainError
from tenancy.models import AuditEvent, Membership
from tests.factories import MembershipFactory, PartnerFactory, UserFactory


@pytest.fixture
def partner(scoped):
    return PartnerFactory(name="Northwind")


def test_invite_creates_partner_membership(scoped, partner, admin_user):
    membership, created = invitations.partner_user_invite(
        tenant=scoped, partner=partner, email=" Jane@Northwind.example ", actor=admin_user
    )

    assert created
    assert membership.role == Membership.Role.PARTNER
    assert membership.partner_id == partner.pk
    assert membership.user.username == "jane@northwind.example"
    assert not membership.user.has_usable_password()
    assert AuditEvent.objects.filter(event="membership.invited").count() == 1


def test_invitation_email_link_sets_password(
    scoped, partner, admin_user, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitations.partner_user_invite(
            tenant=scoped, partner=partner, email="jane@northwind.example", actor=admin_user
        )

    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-long-portal-pass-42", "new_password2": "a-long-portal-pass-42"},
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="jane@northwind.example")
    assert user.check_password("a-long-portal-pass-42")


def test_repeat_invite_resends_only(
    scoped, partner, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitations.partner_user_invite(
            tenant=scoped, partner=partner, email="jane@northwind.example", actor=admin_user
        )
        _, created = invitations.partner_user_invite(
            tenant=scoped, partner=partner, email="jane@northwind.example", actor=admin_user
        )

    assert not created
    assert Membership.objects.filter(tenant=scoped).count() == 2
    assert len(mail.outbox) == 2


def test_staff_address_conflicts(scoped, partner, admin_user):
    analyst = UserFactory(username="lee", email="Lee@Acme.example")
    MembershipFactory(tenant=scoped, user=analyst, role=Membership.Role.ANALYST)

    with pytest.raises(Conflict) as raised:
        invitations.partner_user_invite(
            tenant=scoped, partner=partner, email="lee@acme.example", actor=admin_user
        )

    assert raised.value.field == "email"
    membership = Membership.objects.get(user=analyst)
    assert membership.role == Membership.Role.ANALYST


def test_other_partners_user_conflicts(scoped, partner, admin_user):
    other = PartnerFactory(name="Contoso")
    user = UserFactory(username="sam@contoso.example")
    MembershipFactory(tenant=scoped, user=user, role=Membership.Role.PARTNER, partner=other)

    with pytest.raises(Conflict):
        invitations.partner_user_invite(
            tenant=scoped, partner=partner, email="sam@contoso.example", actor=admin_user
        )

    assert Membership.objects.get(user=user).partner_id == other.pk


@pytest.mark.parametrize("email", ["", "jane", "jane@", "a" * 140 + "@example.com"])
def test_invalid_address_rejected(scoped, partner, admin_user, email):
    with pytest.raises(DomainError) as raised:
        invitations.partner_user_invite(
            tenant=scoped, partner=partner, email=email, actor=admin_user
        )

    assert raised.value.field == "email"
    assert not Membership.objects.filter(role=Membership.Role.PARTNER).exists()


def test_existing_user_gets_login_notice(
    scoped, partner, admin_user, django_capture_on_commit_callbacks
):
    UserFactory(username="kim@northwind.example", email="kim@northwind.example")

    with django_capture_on_commit_callbacks(execute=True):
        invitations.partner_user_invite(
            tenant=scoped, partner=partner, email="kim@northwind.example", actor=admin_user
        )

    assert "/reset/" not in mail.outbox[0].body
    assert "existing password" in mail.outbox[0].body


def test_remove_deletes_membership_only(scoped, partner, admin_user):
    membership, _ = invitations.partner_user_invite(
        tenant=scoped, partner=partner, email="jane@northwind.example", actor=admin_user
    )

    invitations.partner_user_remove(membership=membership, actor=admin_user)

    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert get_user_model().objects.filter(username="jane@northwind.example").exists()
    assert AuditEvent.objects.filter(event="membership.removed").count() == 1


def test_remove_rejects_staff(scoped, admin_user):
    membership = Membership.objects.get(user=admin_user)

    with pytest.raises(DomainError):
        invitations.partner_user_remove(membership=membership, actor=admin_user)

    assert Membership.objects.filter(pk=membership.pk).exists()
