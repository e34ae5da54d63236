"""The public application page and the staff list of applications."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from partners import applications
from partners.application_views import rate_limit_key
from partners.models import Partner, PartnerApplication
from tenancy.models import Membership
from tenancy.scope import tenant_scope

FORM = {
    "company_name": "Northwind Consulting",
    "website": "northwind-consulting.com",
    "contact_name": "Jane Doe",
    "contact_email": "jane@northwind-consulting.com",
    "kind": "referral",
    "message": "",
    "reach": "acme.com\njoe@gmail.com",
    "fax": "",
}


@pytest.fixture(autouse=True)
def _rate_limit_reset(tenant, other_tenant):
    """Delete the test client's submission counters, which live in Redis past the test."""
    keys = [rate_limit_key(t, "127.0.0.1") for t in (tenant, other_tenant)]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


@pytest.fixture
def open_tenant(tenant):
    tenant.applications_open = True
    tenant.save()
    return tenant


def test_closed_page_is_404(client, tenant):
    response = client.get(f"/apply/{tenant.slug}/")

    assert response.status_code == 404


def test_unknown_slug_is_404(client, db):
    response = client.get("/apply/no-such-program/")

    assert response.status_code == 404


def test_page_shows_form(client, open_tenant):
    response = client.get(f"/apply/{open_tenant.slug}/")

    assert response.status_code == 200
    assert b"Become a partner of" in response.content


def test_submission_creates_applied_partner(client, open_tenant):
    response = client.post(f"/apply/{open_tenant.slug}/", FORM)

    assert response.status_code == 200
    assert b"1 of 2 lines were taken" in response.content
    with tenant_scope(open_tenant):
        assert Partner.objects.get().status == Partner.Status.APPLIED


def test_invalid_field_shown_next_to_input(client, open_tenant):
    response = client.post(f"/apply/{open_tenant.slug}/", {**FORM, "website": "gmail.com"})

    assert response.status_code == 400
    assert b"consumer mail provider" in response.content
    with tenant_scope(open_tenant):
        assert not Partner.objects.exists()


def test_every_invalid_field_shown_at_once(client, open_tenant):
    invalid = {**FORM, "website": "gmail.com", "contact_email": "not-an-email"}

    response = client.post(f"/apply/{open_tenant.slug}/", invalid)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "consumer mail provider" in errors["website"][0]
    assert "e-mail address is not valid" in errors["contact_email"][0]
    page = response.content.decode()
    assert 'id="id_website_error"' in page
    assert 'id="id_contact_email_error"' in page


def test_service_checks_shown_with_form_errors(client, open_tenant):
    invalid = {**FORM, "company_name": "", "website": "gmail.com"}

    response = client.post(f"/apply/{open_tenant.slug}/", invalid)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "company_name" in errors
    assert "consumer mail provider" in errors["website"][0]


def test_honeypot_stores_nothing(client, open_tenant):
    response = client.post(f"/apply/{open_tenant.slug}/", {**FORM, "fax": "+1 555 0100"})

    assert response.status_code == 200
    with tenant_scope(open_tenant):
        assert not PartnerApplication.objects.exists()


def test_rate_limit_per_address(client, open_tenant):
    for _ in range(applications.SUBMISSIONS_PER_HOUR):
        assert client.post(f"/apply/{open_tenant.slug}/", FORM).status_code == 200

    response = client.post(f"/apply/{open_tenant.slug}/", FORM)

    assert response.status_code == 429
    with tenant_scope(open_tenant):
        assert PartnerApplication.objects.count() == applications.SUBMISSIONS_PER_HOUR


def test_rate_limit_skips_rejected_submissions(client, open_tenant):
    url = f"/apply/{open_tenant.slug}/"
    for _ in range(applications.SUBMISSIONS_PER_HOUR - 1):
        assert client.post(url, {**FORM, "website": "gmail.com"}).status_code == 400
    assert client.post(url, FORM).status_code == 200

    response = client.post(url, FORM)

    assert response.status_code == 200
    with tenant_scope(open_tenant):
        assert PartnerApplication.objects.count() == 2


def test_staff_list_shows_own_applications(client, open_tenant, other_tenant, login_as):
    other_tenant.applications_open = True
    other_tenant.save()
    Client().post(f"/apply/{open_tenant.slug}/", FORM)
    Client().post(
        f"/apply/{other_tenant.slug}/",
        {**FORM, "company_name": "Other Tenant Applicant", "website": "other-applicant.com"},
    )
    staff = login_as(Membership.Role.ANALYST)

    response = staff.get("/partners/applications/")

    assert response.status_code == 200
    assert b"Northwind Consulting" in response.content
    assert b"Other Tenant Applicant" not in response.content


def test_manager_opens_and_closes_page(tenant, login_as):
    manager = login_as(Membership.Role.PARTNER_MANAGER)

    manager.post("/partners/applications/open/", {"open": "1"})
    tenant.refresh_from_db()
    assert tenant.applications_open
    manager.post("/partners/applications/open/", {"open": "0"})
    tenant.refresh_from_db()
    assert not tenant.applications_open


def test_analyst_cannot_open_page(tenant, login_as):
    analyst = login_as(Membership.Role.ANALYST)

    response = analyst.post("/partners/applications/open/", {"open": "1"})

    assert response.status_code == 403
    tenant.refresh_from_db()
    assert not tenant.applications_open


def test_manager_invites_portal_user(program, login_as, django_capture_on_commit_callbacks):
    manager = login_as(Membership.Role.PARTNER_MANAGER)

    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(
            f"/partners/{program.partner.pk}/portal-users/", {"email": "new@acme-partner.example"}
        )

    assert response.status_code == 302
    page = manager.get(f"/partners/{program.partner.pk}/")
    assert b"new@acme-partner.example" in page.content
    assert b"invited, no password yet" in page.content


def test_invalid_invite_shows_error(program, login_as):
    manager = login_as(Membership.Role.PARTNER_MANAGER)

    response = manager.post(
        f"/partners/{program.partner.pk}/portal-users/", {"email": "not-an-address"}, follow=True
    )

    assert b"The e-mail address is not valid." in response.content
    assert not Membership.objects.filter(user__username="not-an-address").exists()


def test_manager_removes_portal_user(program, login_as):
    manager = login_as(Membership.Role.PARTNER_MANAGER)

    response = manager.post(
        f"/partners/portal-users/{program.portal_membership.pk}/remove/", {"confirmed": "1"}
    )

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=program.portal_membership.pk).exists()


def test_analyst_cannot_invite(program, login_as):
    analyst = login_as(Membership.Role.ANALYST)

    response = analyst.post(
        f"/partners/{program.partner.pk}/portal-users/", {"email": "x@acme-partner.example"}
    )

    assert response.status_code == 403
    assert not Membership.objects.filter(user__username="x@acme-partner.example").exists()
