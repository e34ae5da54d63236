"""Registration, link and settings pages for staff, and the portal pages for partner users."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from attribution.clicks import clicks_drain
from attribution.links import link_create
from attribution.models import Referral, TrackingLink
from attribution.referrals import referral_register
from tenancy.models import Membership, Tenant
from tenancy.scope import tenant_scope
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    PartnerFactory,
    UserFactory,
    registration_create,
)

REFERRALS = "/attribution/referrals/"
PORTAL_REFERRALS = "/attribution/portal/referrals/"
PORTAL_LINKS = "/attribution/portal/links/"

# The field that the confirmation of a destructive action adds.
CONFIRMED = {"confirmed": "1"}


def logged_in(tenant, role: str, partner=None) -> Client:
    user = UserFactory(username=f"{role}-pages")
    MembershipFactory(tenant=tenant, user=user, role=role, partner=partner)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager(scoped):
    return logged_in(scoped, Membership.Role.PARTNER_MANAGER)


@pytest.fixture
def analyst(scoped):
    return logged_in(scoped, Membership.Role.ANALYST)


@pytest.fixture
def portal(client, partner_user):
    client.force_login(partner_user)
    return client


@pytest.fixture
def acme(scoped):
    return AccountFactory(tenant=scoped, name="Acme", domain="acme.com", fit_score=91, fit_tier="A")


@pytest.fixture
def conflict(acme, partner, rival):
    referral_register(partner=rival, company="acme.com", source=Referral.Source.API)
    referral, _ = referral_register(partner=partner, company="acme.com", source=Referral.Source.API)
    return referral


# Staff pages


def test_referral_list_shows_conflicts(manager, conflict):
    response = manager.get(f"{REFERRALS}?status=conflict")

    content = response.content.decode()
    assert response.status_code == 200
    assert "North Partners" in content
    assert "South Agency registered Acme" in content
    assert f'action="/attribution/referrals/{conflict.pk}/approve/"' in content
    assert "1 registration" in content


def test_referral_list_filter_by_partner(manager, conflict, rival):
    response = manager.get(f"{REFERRALS}?partner={rival.pk}")

    assert "1 registration" in response.content.decode()
    assert "North Partners</a>" not in response.content.decode()


def test_approve_from_list_keeps_filters(manager, conflict):
    response = manager.post(
        f"/attribution/referrals/{conflict.pk}/approve/",
        {"note": "Introduced at the fair", "status": "conflict", "page": "7"},
    )

    conflict.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"{REFERRALS}?status=conflict"
    assert conflict.status == Referral.Status.APPROVED
    assert conflict.review_note == "Introduced at the fair"


def test_review_without_note_changes_nothing(manager, conflict):
    response = manager.post(
        f"/attribution/referrals/{conflict.pk}/reject/", {"note": ""}, follow=True
    )

    conflict.refresh_from_db()
    assert conflict.status == Referral.Status.CONFLICT
    assert "not changed" in response.content.decode()


def test_analyst_sees_list_without_review(analyst, conflict):
    listed = analyst.get(REFERRALS)
    posted = analyst.post(f"/attribution/referrals/{conflict.pk}/approve/", {"note": "x"})

    assert listed.status_code == 200
    assert "/approve/" not in listed.content.decode()
    assert posted.status_code == 403


def test_partner_user_sent_to_portal(portal):
    response = portal.get(REFERRALS)

    assert response.status_code == 302
    assert response["Location"] == "/partners/portal/"


def test_partner_links_page(manager, link_hosts, partner):
    link = link_create(partner=partner, destination="https://acme-analytics.com/", label="Blog")
    Client().get(f"/r/{link.code}")
    clicks_drain()

    response = manager.get(f"/attribution/partners/{partner.pk}/links/")

    content = response.content.decode()
    assert response.status_code == 200
    assert f"http://testserver/r/{link.code}" in content
    assert '<td class="num">1</td>' in content


def test_partner_links_create_and_errors(manager, link_hosts, partner):
    url = f"/attribution/partners/{partner.pk}/links/"

    created = manager.post(url, {"label": "Mail", "destination": "https://acme-analytics.com/a"})
    rejected = manager.post(url, {"destination": "https://evil.com/"})

    assert created.status_code == 302
    assert TrackingLink.objects.get().label == "Mail"
    assert rejected.status_code == 400
    assert "not one of the tenant&#x27;s link hosts" in rejected.content.decode()


def test_partner_links_without_hosts_says_how(manager, partner):
    response = manager.get(f"/attribution/partners/{partner.pk}/links/")

    assert "No link hosts are set yet" in response.content.decode()


def test_analyst_cannot_create_link(analyst, link_hosts, partner):
    response = analyst.post(
        f"/attribution/partners/{partner.pk}/links/", {"destination": "https://acme-analytics.com/"}
    )

    assert response.status_code == 403
    assert TrackingLink.objects.count() == 0


def test_staff_deactivates_link(manager, link_hosts, partner):
    link = link_create(partner=partner, destination="https://acme-analytics.com/")

    response = manager.post(f"/attribution/links/{link.pk}/deactivate/", CONFIRMED)

    link.refresh_from_db()
    assert response.status_code == 302
    assert link.is_active is False


def test_settings_page_saves_attribution(manager, scoped, django_capture_on_commit_callbacks):
    page = manager.get("/settings/")
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(
            "/settings/attribution/",
            {
                "attribution_window_days": "90",
                "attribution_touch": "last",
                "link_domains": "acme-analytics.com\nshop.acme-analytics.com",
            },
        )

    tenant = Tenant.objects.get(pk=scoped.pk)
    assert 'name="attribution_window_days"' in page.content.decode()
    assert response.status_code == 302
    assert tenant.attribution_window_days == 90
    assert tenant.attribution_touch == "last"
    assert tenant.link_domains == ["acme-analytics.com", "shop.acme-analytics.com"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("attribution_window_days", "0", "greater than or equal to 1"),
        ("attribution_window_days", "1096", "less than or equal to 1095"),
        ("link_domains", "localhost", "Link host &#x27;localhost&#x27;"),
    ],
)
def test_settings_page_errors(manager, scoped, field, value, message):
    values = {"attribution_window_days": "365", "attribution_touch": "first", "link_domains": ""}

    response = manager.post("/settings/attribution/", {**values, field: value})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Tenant.objects.get(pk=scoped.pk).attribution_window_days == 365


def test_analyst_cannot_change_settings(analyst, scoped):
    page = analyst.get("/settings/")
    response = analyst.post(
        "/settings/attribution/", {"attribution_window_days": "30", "attribution_touch": "last"}
    )

    assert "Only admins and partner managers" in page.content.decode()
    assert response.status_code == 403


# Portal pages


def test_portal_lists_own_registrations(portal, conflict, rival):
    referral_register(partner=rival, company="other.io", source=Referral.Source.API)

    response = portal.get(PORTAL_REFERRALS)

    content = response.content.decode()
    assert response.status_code == 200
    assert "acme.com" in content
    assert "other.io" not in content
    assert "South Agency" not in content
    assert "Another partner registered acme.com" in content
    assert 'hx-get="/attribution/portal/referrals/check/"' in content


def test_portal_registers_without_javascript(portal, acme, partner):
    response = portal.post(
        PORTAL_REFERRALS,
        {"domain": "www.acme.com", "company_name": "Acme", "contact_email": "", "notes": ""},
        follow=True,
    )

    referral = Referral.objects.get()
    assert referral.partner == partner
    assert referral.status == Referral.Status.APPROVED
    assert "Registered acme.com" in response.content.decode()


def test_portal_conflict_message_hides_holder(portal, acme, rival):
    referral_register(partner=rival, company="acme.com", source=Referral.Source.API)

    response = portal.post(PORTAL_REFERRALS, {"domain": "acme.com"}, follow=True)

    content = response.content.decode()
    assert "as a conflict" in content
    assert "South Agency" not in content


def test_portal_check_button_stores_nothing(portal, acme):
    response = portal.post(PORTAL_REFERRALS, {"domain": "acme.com", "action": "check"})

    content = response.content.decode()
    assert response.status_code == 200
    assert "Eligible" in content
    assert "ICP fit" in content
    assert "91/100" not in content
    assert Referral.objects.count() == 0


def test_portal_check_fragment(portal, acme):
    response = portal.get(
        "/attribution/portal/referrals/check/?domain=jane@acme.com", headers={"HX-Request": "true"}
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert "Eligible" in content
    assert "tier-a" in content


def test_portal_check_fragment_unknown_and_invalid(portal, scoped):
    unknown = portal.get("/attribution/portal/referrals/check/?domain=newco.io").content.decode()
    personal = portal.get("/attribution/portal/referrals/check/?domain=gmail.com").content.decode()

    assert "newco.io is an unknown company, not in the CRM yet" in unknown
    assert "consumer mail provider" in personal


def test_portal_register_error_names_field(portal, scoped):
    response = portal.post(PORTAL_REFERRALS, {"domain": "jane@gmail.com"})

    assert response.status_code == 400
    assert "consumer mail provider" in response.content.decode()
    assert Referral.objects.count() == 0


def test_portal_links_own_only(portal, link_hosts, partner, rival):
    theirs = link_create(partner=rival, destination="https://acme-analytics.com/")

    created = portal.post(PORTAL_LINKS, {"destination": "https://acme-analytics.com/p"})
    listed = portal.get(PORTAL_LINKS).content.decode()

    mine = TrackingLink.objects.get(partner=partner)
    assert created.status_code == 302
    assert mine.code in listed
    assert theirs.code not in listed


def test_portal_deactivates_own_link_only(portal, link_hosts, partner, rival):
    mine = link_create(partner=partner, destination="https://acme-analytics.com/")
    theirs = link_create(partner=rival, destination="https://acme-analytics.com/")

    own = portal.post(f"/attribution/portal/links/{mine.code}/deactivate/", CONFIRMED)
    other = portal.post(f"/attribution/portal/links/{theirs.code}/deactivate/", CONFIRMED)

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert own.status_code == 302
    assert mine.is_active is False
    assert other.status_code == 404
    assert theirs.is_active is True


@pytest.mark.parametrize("url", [PORTAL_REFERRALS, PORTAL_LINKS])
def test_portal_pages_reject_staff(manager, url):
    assert manager.get(url).status_code == 403


def test_pages_show_only_own_tenant(manager, conflict, other_tenant):
    with tenant_scope(other_tenant):
        globex_partner = PartnerFactory(tenant=other_tenant, name="Globex Partner")
        referral_register(partner=globex_partner, company="globex.com", source="api")

    content = manager.get(REFERRALS).content.decode()

    assert "globex.com" not in content
    assert "Globex Partner" not in content


def test_portal_marks_expired_registration(portal, partner, scoped):
    registration_create(partner, "old-co.com", scoped.today() - datetime.timedelta(days=400))
    registration_create(partner, "new-co.com", scoped.today())

    content = portal.get(PORTAL_REFERRALS).content.decode()

    assert content.count("Expired</span>") == 1
    assert "Approved</span>" in content
