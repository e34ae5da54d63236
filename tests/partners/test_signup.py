"""Applicant sign-up: the e-mailed link, choosing a password, repeats and bad links."""

from __future__ import annotations

import re
import time

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.test import Client

from partners import signup
from partners.models import Partner, PartnerApplication
from partners.recompute import redis_client
from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.factories import MembershipFactory, PartnerFactory, UserFactory

PASSWORD = "Plum-orchard-417"
FORM = {
    "company_name": "Northwind Consulting",
    "website": "northwind-consulting.com",
    "contact_name": "Jane Doe",
    "contact_email": "jane@northwind-consulting.com",
    "kind": "referral",
    "message": "",
    "reach": "",
    "fax": "",
}
LINK = re.compile(r"http://testserver(/apply/[^/]+/confirm/[^/\s]+/)")


@pytest.fixture(autouse=True)
def _counters_reset():
    """Delete application and new-link counters, which live in Redis past the test."""
    client = redis_client()
    for pattern in ("*apply:*", "*signup-resend:*", "*allauth:rl:*"):
        keys = list(client.scan_iter(pattern))
        if keys:
            client.delete(*keys)


@pytest.fixture
def open_tenant(tenant):
    tenant.applications_open = True
    tenant.save()
    return tenant


@pytest.fixture
def apply(django_capture_on_commit_callbacks):
    """Return a function that submits the form and runs the e-mail task it enqueues."""

    def submit(client, tenant, **changes) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/apply/{tenant.slug}/", {**FORM, **changes})
        assert response.status_code == 200, response.content.decode()

    return submit


@pytest.fixture
def new_link(django_capture_on_commit_callbacks):
    """Return a function that requests a new link and runs the e-mail task it enqueues."""

    def request(client, email: str):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/apply/acme/new-link/", {"email": email})

    return request


def _link(message) -> str:
    return LINK.search(message.body).group(1)


def _users(email: str):
    return get_user_model().objects.filter(email__iexact=email)


def _confirm(client, path: str, password: str = PASSWORD):
    return client.post(path, {"new_password1": password, "new_password2": password})


def test_application_sends_link(client, open_tenant, apply):
    apply(client, open_tenant)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["jane@northwind-consulting.com"]
    assert "Acme Analytics" in message.subject
    assert _link(message).startswith("/apply/acme/confirm/")
    assert not _users("jane@northwind-consulting.com").exists()
    with tenant_scope(open_tenant):
        application = PartnerApplication.objects.get()
    assert application.signup_sent_at is not None
    assert application.email_verified_at is None


def test_done_page_names_address(client, open_tenant):
    response = client.post(f"/apply/{open_tenant.slug}/", FORM)

    content = response.content.decode()
    assert "We sent a link to <strong>jane@northwind-consulting.com</strong>" in content


def test_link_shows_password_form(client, open_tenant, apply):
    apply(client, open_tenant)

    response = client.get(_link(mail.outbox[0]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Northwind Consulting" in content
    assert 'name="new_password1"' in content


def test_link_get_changes_nothing(client, open_tenant, apply):
    apply(client, open_tenant)

    client.get(_link(mail.outbox[0]))

    assert not _users("jane@northwind-consulting.com").exists()


def test_confirm_creates_partner_user(client, open_tenant, apply):
    apply(client, open_tenant)

    response = _confirm(client, _link(mail.outbox[0]))

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    user = _users("jane@northwind-consulting.com").get()
    assert user.username == "jane@northwind-consulting.com"
    assert user.check_password(PASSWORD)
    with tenant_scope(open_tenant):
        partner = Partner.objects.get(domain="northwind-consulting.com")
        application = PartnerApplication.objects.get()
    membership = Membership.objects.get(user=user)
    assert membership.tenant == open_tenant
    assert membership.role == Membership.Role.PARTNER
    assert membership.partner == partner
    assert application.email_verified_at is not None
    address = EmailAddress.objects.get(user=user)
    assert address.email == "jane@northwind-consulting.com"
    assert address.verified
    assert address.primary


def test_confirmed_user_logs_in_by_email(client, open_tenant, apply):
    apply(client, open_tenant)
    _confirm(client, _link(mail.outbox[0]))

    response = client.post(
        "/login/", {"login": "jane@northwind-consulting.com", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert client.get("/partners/portal/").status_code == 200


def test_weak_password_rejected_next_to_field(client, open_tenant, apply):
    apply(client, open_tenant)
    path = _link(mail.outbox[0])

    response = _confirm(client, path, password="123")

    assert response.status_code == 400
    assert 'class="field-error" id="id_new_password2_error"' in response.content.decode()
    assert not _users("jane@northwind-consulting.com").exists()


def test_second_click_is_idempotent(client, open_tenant, apply):
    apply(client, open_tenant)
    path = _link(mail.outbox[0])
    _confirm(client, path)

    page = Client().get(path)
    again = _confirm(Client(), path, password="Another-pass-9921")

    assert page.status_code == 200
    assert "Your address is confirmed" in page.content.decode()
    assert again.status_code == 200
    assert _users("jane@northwind-consulting.com").count() == 1
    assert _users("jane@northwind-consulting.com").get().check_password(PASSWORD)
    assert Membership.objects.filter(tenant=open_tenant, role="partner").count() == 1


def test_resubmission_sends_link_again(client, open_tenant, apply):
    apply(client, open_tenant)
    apply(client, open_tenant, message="Sent twice.")
    first, second = (_link(message) for message in mail.outbox)

    _confirm(Client(), second)
    response = Client().get(first)

    assert len(mail.outbox) == 2
    assert "Your address is confirmed" in response.content.decode()
    assert _users("jane@northwind-consulting.com").count() == 1
    with tenant_scope(open_tenant):
        verified = PartnerApplication.objects.filter(email_verified_at__isnull=False)
        assert verified.count() == 2


def test_resubmission_after_signup_creates_no_user(client, open_tenant, apply):
    apply(client, open_tenant)
    _confirm(Client(), _link(mail.outbox[0]))

    apply(client, open_tenant, contact_email="JANE@northwind-consulting.com")
    response = _confirm(Client(), _link(mail.outbox[1]))

    assert response.status_code == 200
    assert "Nothing changed" in response.content.decode()
    assert (
        get_user_model().objects.filter(email__iexact="jane@northwind-consulting.com").count() == 1
    )


def test_expired_link_offers_new_one(client, open_tenant, monkeypatch, apply):
    apply(client, open_tenant)
    path = _link(mail.outbox[0])
    four_days_later = time.time() + 4 * 86400
    monkeypatch.setattr(signing.time, "time", lambda: four_days_later)

    response = client.get(path)

    assert response.status_code == 400
    content = response.content.decode()
    assert "This link has expired" in content
    assert "work for 3 days" in content
    assert 'action="/apply/acme/new-link/"' in content


def test_tampered_link_is_invalid(client, open_tenant, apply):
    apply(client, open_tenant)
    path = _link(mail.outbox[0])

    response = client.get(path.replace("/confirm/", "/confirm/x"))

    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()


def test_link_of_other_tenant_is_invalid(client, open_tenant, other_tenant, apply):
    apply(client, open_tenant)
    path = _link(mail.outbox[0]).replace("/apply/acme/", f"/apply/{other_tenant.slug}/")

    response = client.get(path)

    assert response.status_code == 400
    assert "Northwind" not in response.content.decode()
    assert not _users("jane@northwind-consulting.com").exists()


def test_new_link_sent_on_request(client, open_tenant, apply, new_link):
    apply(client, open_tenant)

    response = new_link(client, "Jane@Northwind-Consulting.com")

    assert response.status_code == 200
    assert "Check your e-mail" in response.content.decode()
    assert len(mail.outbox) == 2
    assert _link(mail.outbox[1]).startswith("/apply/acme/confirm/")


def test_new_link_unknown_address_same_page(client, open_tenant, new_link):
    response = new_link(client, "nobody@example.com")

    assert response.status_code == 200
    assert "Check your e-mail" in response.content.decode()
    assert mail.outbox == []


def test_new_link_requests_rate_limited(client, open_tenant, apply, new_link):
    apply(client, open_tenant)
    for _ in range(3):
        new_link(client, "jane@northwind-consulting.com")

    response = new_link(client, "jane@northwind-consulting.com")

    assert response.status_code == 429
    assert "at most 3 an hour" in response.content.decode()
    assert len(mail.outbox) == 4


def test_new_link_invalid_email_named(client, open_tenant, new_link):
    response = new_link(client, "not-an-address")

    assert response.status_code == 400
    assert 'id="id_email_error"' in response.content.decode()


def test_existing_partner_gets_no_link(client, open_tenant, apply):
    with tenant_scope(open_tenant):
        PartnerFactory(domain="northwind-consulting.com", status=Partner.Status.ACTIVE)

    apply(client, open_tenant)

    assert mail.outbox == []
    with tenant_scope(open_tenant):
        assert PartnerApplication.objects.get().signup_sent_at is None


def test_other_contact_gets_no_link(client, open_tenant, apply):
    apply(client, open_tenant)

    apply(client, open_tenant, contact_email="mallory@elsewhere.com")

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["jane@northwind-consulting.com"]


def test_consumer_mail_website_rejected(client, open_tenant):
    response = client.post(f"/apply/{open_tenant.slug}/", {**FORM, "website": "gmail.com"})

    assert response.status_code == 400
    assert mail.outbox == []


def test_consumer_mail_contact_gets_link(client, open_tenant, apply):
    apply(client, open_tenant, contact_email="jane.doe@gmail.com")

    assert mail.outbox[0].to == ["jane.doe@gmail.com"]


def test_staff_address_is_taken(client, open_tenant, apply):
    staff = UserFactory(username="jane@northwind-consulting.com", email="")
    MembershipFactory(tenant=open_tenant, user=staff, role=Membership.Role.ANALYST)
    apply(client, open_tenant)
    path = _link(mail.outbox[0])

    page = client.get(path)
    response = _confirm(client, path)

    assert "This address has another role" in page.content.decode()
    assert response.status_code == 200
    assert Membership.objects.get(user=staff).role == Membership.Role.ANALYST
    assert not staff.check_password(PASSWORD)


def test_user_of_other_program_keeps_password(client, open_tenant, other_tenant, apply):
    user = UserFactory(username="jane-globex", email="jane@northwind-consulting.com")
    with tenant_scope(other_tenant):
        other_partner = PartnerFactory(name="Northwind at Globex")
    MembershipFactory(tenant=other_tenant, user=user, role="partner", partner=other_partner)
    apply(client, open_tenant)
    path = _link(mail.outbox[0])

    page = client.get(path)
    response = client.post(path, {})

    assert "You already have an account with this address" in page.content.decode()
    assert "Globex" not in page.content.decode()
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("pass-word-123")
    assert Membership.objects.filter(user=user).count() == 2
    assert Membership.objects.get(user=user, tenant=open_tenant).partner.name == (
        "Northwind Consulting"
    )


def test_closed_program_link_still_works(client, open_tenant, apply):
    apply(client, open_tenant)
    open_tenant.applications_open = False
    open_tenant.save()

    response = _confirm(client, _link(mail.outbox[0]))

    assert response.status_code == 302
    assert _users("jane@northwind-consulting.com").exists()


def test_terminated_partner_link_closed(client, open_tenant, apply):
    apply(client, open_tenant)
    with tenant_scope(open_tenant):
        Partner.objects.update(status=Partner.Status.TERMINATED)

    response = _confirm(client, _link(mail.outbox[0]))

    assert "This application is closed" in response.content.decode()
    assert not _users("jane@northwind-consulting.com").exists()


def test_list_marks_unverified_email(client, open_tenant, staff_client, apply):
    apply(Client(), open_tenant)

    before = staff_client.get("/partners/applications/").content.decode()
    _confirm(Client(), _link(mail.outbox[0]))
    after = staff_client.get("/partners/applications/").content.decode()

    assert "E-mail not verified" in before
    assert "E-mail not verified" not in after
    assert "E-mail verified" in after


def test_taken_username_gets_suffix(db):
    UserFactory(username="jane@northwind-consulting.com")
    UserFactory(username="jane@northwind-consulting.com-2")

    username = signup._free_username("jane@northwind-consulting.com")

    assert username == "jane@northwind-consulting.com-3"


def test_api_returns_verification_times(client, open_tenant, staff_client, apply):
    apply(Client(), open_tenant)
    _confirm(Client(), _link(mail.outbox[0]))

    response = staff_client.get("/api/v1/partner-applications/")

    row = response.json()["results"][0]
    assert row["signup_sent_at"] is not None
    assert row["email_verified_at"] is not None
