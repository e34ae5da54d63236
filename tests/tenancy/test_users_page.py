"""Settings → Users: listing, inviting, role changes and removal of staff members."""

from __future__ import annotations

import re
import threading
import time

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse

from tenancy import members
from tenancy.errors import Conflict, DomainError
from tenancy.models import AuditEvent, Membership
from tenancy.scope import tenant_scope
from tests.factories import MembershipFactory, PartnerFactory, UserFactory

Role = Membership.Role
USERS = reverse("tenancy:user_list")
INVITE = reverse("tenancy:user_invite")


def _role_url(membership):
    return reverse("tenancy:user_role_change", kwargs={"pk": membership.pk})


def _remove_url(membership):
    return reverse("tenancy:user_remove", kwargs={"pk": membership.pk})


@pytest.fixture
def admin_membership(tenant, admin_user):
    return Membership.objects.get(tenant=tenant, user=admin_user)


@pytest.fixture
def analyst(tenant):
    user = UserFactory(username="ana", email="ana@acme.example", first_name="Ana")
    return MembershipFactory(tenant=tenant, user=user, role=Role.ANALYST)


def test_list_shows_staff_only(staff_client, tenant, analyst, other_tenant):
    with tenant_scope(tenant):
        partner = PartnerFactory(name="Northwind")
    MembershipFactory(
        tenant=tenant,
        user=UserFactory(username="pat@northwind.example"),
        role=Role.PARTNER,
        partner=partner,
    )
    MembershipFactory(tenant=other_tenant, user=UserFactory(username="gina-globex"))

    response = staff_client.get(USERS)

    assert response.status_code == 200
    body = response.content.decode()
    assert "ana@acme.example" in body
    assert "admin-acme" in body
    assert "pat@northwind.example" not in body
    assert "gina-globex" not in body
    assert "invited, no password yet" not in body
    assert "never" in body


def test_list_shows_two_factor_state(tenant, analyst, admin_user):
    Authenticator.objects.create(user=analyst.user, type=Authenticator.Type.TOTP, data={})

    rows = {m.user.username: m.two_factor for m in members.staff_member_list(tenant=tenant)}

    assert rows["ana"] is True
    assert rows[admin_user.username] is False


@pytest.mark.parametrize("role", [Role.PARTNER_MANAGER, Role.ANALYST])
@pytest.mark.parametrize(
    ("method", "route", "needs_id"),
    [
        ("get", "tenancy:user_list", False),
        ("post", "tenancy:user_invite", False),
        ("post", "tenancy:user_role_change", True),
        ("get", "tenancy:user_remove", True),
        ("post", "tenancy:user_remove", True),
    ],
)
def test_non_admin_gets_403(client, tenant, analyst, role, method, route, needs_id):
    user = UserFactory(username=f"staff-{role}")
    MembershipFactory(tenant=tenant, user=user, role=role)
    client.force_login(user)
    kwargs = {"pk": analyst.pk} if needs_id else {}

    response = getattr(client, method)(
        reverse(route, kwargs=kwargs), {"email": "x@acme.example", "role": "admin"}
    )

    assert response.status_code == 403
    assert Membership.objects.filter(pk=analyst.pk, role=Role.ANALYST).exists()
    assert not get_user_model().objects.filter(username="x@acme.example").exists()


def test_partner_user_cannot_manage_users(client, tenant, analyst):
    with tenant_scope(tenant):
        partner = PartnerFactory(name="Northwind")
    user = UserFactory(username="pat@northwind.example")
    MembershipFactory(tenant=tenant, user=user, role=Role.PARTNER, partner=partner)
    client.force_login(user)

    response = client.post(_remove_url(analyst))

    assert response.status_code == 403
    assert Membership.objects.filter(pk=analyst.pk).exists()


def test_invite_sends_set_password_link(
    staff_client, tenant, admin_user, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            INVITE, {"email": " Lee@Acme.example ", "role": Role.PARTNER_MANAGER}
        )

    assert response.status_code == 302
    membership = Membership.objects.get(tenant=tenant, user__username="lee@acme.example")
    assert membership.role == Role.PARTNER_MANAGER
    assert membership.partner_id is None
    event = AuditEvent.all_tenants.get(event="membership.invited", object_id=str(membership.pk))
    assert event.actor == admin_user
    assert event.after == {"user": "lee@acme.example", "role": Role.PARTNER_MANAGER}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["lee@acme.example"]
    assert "partner manager" in mail.outbox[0].body
    link = re.search(r"http://testserver(/reset/\S+/)", mail.outbox[0].body).group(1)
    assert client.get(link, follow=True).status_code == 200


def test_invite_existing_member_errors_at_field(staff_client, tenant, analyst):
    response = staff_client.post(INVITE, {"email": "ana@acme.example", "role": Role.ADMIN})

    assert response.status_code == 409
    form = response.context["invite_form"]
    assert form.errors["email"] == [
        "ana@acme.example is already a member of Acme Analytics as analyst. "
        "Change the member's role in the list below instead."
    ]
    assert 'id="id_email_error"' in response.content.decode()
    analyst.refresh_from_db()
    assert analyst.role == Role.ANALYST


def test_invite_invalid_email_errors_at_field(staff_client, tenant):
    response = staff_client.post(INVITE, {"email": "not-an-address", "role": Role.ANALYST})

    assert response.status_code == 400
    assert "email" in response.context["invite_form"].errors
    assert Membership.objects.filter(tenant=tenant).count() == 1


def test_invite_partner_role_rejected(staff_client, tenant):
    response = staff_client.post(INVITE, {"email": "p@acme.example", "role": Role.PARTNER})

    assert response.status_code == 400
    assert "role" in response.context["invite_form"].errors
    assert not Membership.objects.filter(user__username="p@acme.example").exists()


def test_invite_keeps_other_tenant_membership(
    staff_client, tenant, other_tenant, django_capture_on_commit_callbacks
):
    user = UserFactory(username="gina@globex.example", email="gina@globex.example")
    elsewhere = MembershipFactory(tenant=other_tenant, user=user, role=Role.ADMIN)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(INVITE, {"email": "gina@globex.example", "role": Role.ANALYST})

    assert response.status_code == 302
    assert Membership.objects.get(tenant=tenant, user=user).role == Role.ANALYST
    elsewhere.refresh_from_db()
    assert elsewhere.role == Role.ADMIN
    assert get_user_model().objects.filter(username="gina@globex.example").count() == 1
    # The account keeps its password, so the e-mail contains no set-password link.
    assert "existing password" in mail.outbox[0].body
    page = staff_client.get(USERS).content.decode()
    assert "Globex" not in page


def test_role_change_writes_audit(staff_client, tenant, admin_user, analyst):
    response = staff_client.post(
        _role_url(analyst), {f"member-{analyst.pk}-role": Role.PARTNER_MANAGER}
    )

    assert response.status_code == 302
    analyst.refresh_from_db()
    assert analyst.role == Role.PARTNER_MANAGER
    event = AuditEvent.all_tenants.get(event="membership.role_changed")
    assert event.before == {"role": Role.ANALYST}
    assert event.after["role"] == Role.PARTNER_MANAGER
    assert event.actor == admin_user


def test_last_admin_cannot_demote_self(staff_client, admin_membership):
    response = staff_client.post(
        _role_url(admin_membership), {f"member-{admin_membership.pk}-role": Role.ANALYST}
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "admin-acme is the last admin of Acme Analytics, so they cannot be demoted." in body
    admin_membership.refresh_from_db()
    assert admin_membership.role == Role.ADMIN


def test_last_admin_cannot_remove_self(staff_client, admin_membership):
    response = staff_client.post(_remove_url(admin_membership))

    assert response.status_code == 400
    assert "cannot be removed" in response.content.decode()
    assert Membership.objects.filter(pk=admin_membership.pk).exists()


def test_admin_demotes_self_with_second_admin(staff_client, tenant, admin_membership):
    MembershipFactory(tenant=tenant, user=UserFactory(username="second"), role=Role.ADMIN)

    response = staff_client.post(
        _role_url(admin_membership), {f"member-{admin_membership.pk}-role": Role.ANALYST}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("tenancy:settings")
    admin_membership.refresh_from_db()
    assert admin_membership.role == Role.ANALYST


def test_other_tenant_admins_do_not_count(tenant, other_tenant, admin_membership, admin_user):
    MembershipFactory(tenant=other_tenant, user=UserFactory(username="globex-admin"))

    with pytest.raises(DomainError) as raised:
        members.staff_member_remove(membership=admin_membership, actor=admin_user)

    assert raised.value.field == "role"


def test_remove_asks_for_confirmation(staff_client, analyst):
    response = staff_client.get(_remove_url(analyst))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Remove Ana from Acme Analytics?" in body
    assert 'method="post"' in body
    assert Membership.objects.filter(pk=analyst.pk).exists()


def test_remove_keeps_user_and_other_tenant(staff_client, other_tenant, admin_user, analyst):
    elsewhere = MembershipFactory(tenant=other_tenant, user=analyst.user, role=Role.ADMIN)

    response = staff_client.post(_remove_url(analyst))

    assert response.status_code == 302
    assert response["Location"] == USERS
    assert not Membership.objects.filter(pk=analyst.pk).exists()
    assert Membership.objects.filter(pk=elsewhere.pk, role=Role.ADMIN).exists()
    assert get_user_model().objects.filter(pk=analyst.user_id).exists()
    event = AuditEvent.all_tenants.get(event="membership.removed")
    assert event.before == {"user": "ana", "role": Role.ANALYST}
    assert event.actor == admin_user


def test_partner_membership_is_404(staff_client, tenant):
    with tenant_scope(tenant):
        partner = PartnerFactory(name="Northwind")
    portal = MembershipFactory(
        tenant=tenant, user=UserFactory(username="pat"), role=Role.PARTNER, partner=partner
    )

    assert staff_client.get(_remove_url(portal)).status_code == 404
    assert staff_client.post(_remove_url(portal)).status_code == 404
    assert Membership.objects.filter(pk=portal.pk).exists()


def test_other_tenant_member_is_404(staff_client, other_tenant):
    elsewhere = MembershipFactory(
        tenant=other_tenant, user=UserFactory(username="gina"), role=Role.ANALYST
    )

    assert staff_client.post(_remove_url(elsewhere)).status_code == 404
    response = staff_client.post(_role_url(elsewhere), {f"member-{elsewhere.pk}-role": "admin"})
    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.role == Role.ANALYST


def test_invite_conflict_from_service(tenant, analyst, admin_user):
    with pytest.raises(Conflict) as raised:
        members.staff_user_invite(
            tenant=tenant, email="ANA@acme.example", role=Role.ADMIN, actor=admin_user
        )

    assert raised.value.field == "email"


@pytest.mark.django_db(transaction=True)
def test_concurrent_demotions_keep_an_admin(tenant, admin_user):
    first = Membership.objects.get(tenant=tenant, user=admin_user)
    second = MembershipFactory(tenant=tenant, user=UserFactory(username="second"), role=Role.ADMIN)
    first_done = threading.Event()
    outcome = {}

    def demote_first():
        try:
            with transaction.atomic():
                members.staff_member_role_set(membership=first, role=Role.ANALYST, actor=None)
                first_done.set()
                # Keep the admin rows locked while the other demotion starts.
                time.sleep(0.5)
        finally:
            first_done.set()
            connection.close()

    def demote_second():
        first_done.wait(timeout=10)
        try:
            members.staff_member_role_set(membership=second, role=Role.ANALYST, actor=None)
            outcome["second"] = "demoted"
        except DomainError as error:
            outcome["second"] = error.message
        finally:
            connection.close()

    threads = [threading.Thread(target=demote_first), threading.Thread(target=demote_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert (
        outcome["second"]
        == "second is the last admin of Acme Analytics, so they cannot be demoted."
    )
    assert list(
        Membership.objects.filter(tenant=tenant, role=Role.ADMIN).values_list("pk", flat=True)
    ) == [second.pk]
