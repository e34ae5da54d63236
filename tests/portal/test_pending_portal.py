"""The portal of a partner that is not active yet: the review page and nothing else."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from attribution.models import Referral, TrackingLink
from partners.lifecycle import partner_status_change
from partners.models import Partner
from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.factories import MembershipFactory, PartnerFactory, UserFactory

PENDING = [Partner.Status.APPLIED, Partner.Status.PROSPECT]


@pytest.fixture
def applicant(tenant):
    with tenant_scope(tenant):
        partner = PartnerFactory(name="Northwind Consulting", status=Partner.Status.APPLIED)
    user = UserFactory(username="jane@northwind.example")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER, partner=partner)
    client = Client()
    client.force_login(user)
    return partner, client


def _status_set(tenant, partner, status) -> None:
    with tenant_scope(tenant):
        Partner.objects.filter(pk=partner.pk).update(status=status)


@pytest.mark.parametrize("status", PENDING)
def test_portal_shows_review_page(tenant, applicant, status):
    partner, client = applicant
    _status_set(tenant, partner, status)

    response = client.get(reverse("partners:portal"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Your application is under review" in content
    assert "Northwind Consulting" in content
    assert "Companies to bring forward" not in content
    assert reverse("attribution:portal_referrals") not in content
    assert reverse("attribution:portal_links") not in content
    assert reverse("partners:portal_mdf") not in content
    assert reverse("partners:portal_brief_csv") not in content


@pytest.mark.parametrize(
    "route",
    [
        "partners:portal_brief_csv",
        "attribution:portal_referrals",
        "attribution:portal_referral_check",
        "attribution:portal_links",
        "partners:portal_mdf",
    ],
)
def test_portal_pages_redirect_to_review(applicant, route):
    _, client = applicant

    response = client.get(reverse(route))

    assert response.status_code == 302
    assert response["Location"] == reverse("partners:portal")


def test_referral_post_rejected(tenant, applicant):
    partner, client = applicant

    response = client.post(
        reverse("attribution:portal_referrals"), {"domain": "fresh-prospect.com"}
    )

    assert response.status_code == 403
    assert "under review" in response.content.decode()
    with tenant_scope(tenant):
        assert not Referral.objects.filter(partner=partner).exists()


def test_link_post_rejected(tenant, applicant):
    partner, client = applicant

    response = client.post(
        reverse("attribution:portal_links"), {"destination": "https://acme.com/"}
    )

    assert response.status_code == 403
    with tenant_scope(tenant):
        assert not TrackingLink.objects.filter(partner=partner).exists()


@pytest.mark.parametrize("route", ["api-portal-partner", "api-portal-brief", "api-portal-links"])
def test_portal_api_rejected(applicant, route):
    _, client = applicant

    response = client.get(reverse(route))

    assert response.status_code == 403
    assert "under review" in response.json()["message"]


def test_staff_page_redirects_to_review(applicant):
    _, client = applicant

    response = client.get(reverse("partners:partner_list"))

    assert response.status_code == 302
    assert response["Location"] == reverse("partners:portal")


def test_navigation_shows_only_application(applicant):
    _, client = applicant

    content = client.get(reverse("partners:portal")).content.decode()

    assert "My application" in content
    assert "My results" not in content
    assert "Register a referral" not in content
    assert reverse("mfa_index") in content


def test_activation_opens_full_portal(tenant, applicant, admin_user):
    partner, client = applicant
    with tenant_scope(tenant):
        partner_status_change(partner=partner, status=Partner.Status.ACTIVE, actor=admin_user)

    portal = client.get(reverse("partners:portal"))
    referrals = client.get(reverse("attribution:portal_referrals"))

    assert "Your application is under review" not in portal.content.decode()
    assert "My results" in portal.content.decode()
    assert referrals.status_code == 200


def test_paused_partner_still_reads_portal(tenant, applicant):
    partner, client = applicant
    _status_set(tenant, partner, Partner.Status.PAUSED)

    response = client.get(reverse("attribution:portal_referrals"))

    assert response.status_code == 200
