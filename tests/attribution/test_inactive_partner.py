"""Paused and terminated partners: dead links, no conversions, and a closed or read-only portal."""

from __future__ import annotations

import pytest
from django.test import Client

from attribution import clickqueue
from attribution.clicks import COOKIE_NAME, clicks_drain
from attribution.links import CACHE_SECONDS, link_create, link_for_code
from attribution.models import Referral, Touch, TrackingLink
from partners.lifecycle import partner_status_change
from partners.models import Partner
from tenancy.permissions import PARTNERSHIP_ENDED_MESSAGE
from tests.factories import AccountFactory

INACTIVE = (Partner.Status.PAUSED, Partner.Status.TERMINATED)
PORTAL_PAGES = (
    "/partners/portal/",
    "/partners/portal/brief.csv",
    "/attribution/portal/referrals/",
    "/attribution/portal/referrals/check/?domain=acme.com",
    "/attribution/portal/links/",
)
PORTAL_API = (
    "/api/v1/portal/partner/",
    "/api/v1/portal/overlap/",
    "/api/v1/portal/reach/",
    "/api/v1/portal/brief/",
    "/api/v1/portal/referrals/",
    "/api/v1/portal/referrals/check/?domain=acme.com",
    "/api/v1/portal/links/",
)


@pytest.fixture
def links(link_hosts, partner, rival):
    return {
        "partner": link_create(partner=partner, destination="https://acme-analytics.com/"),
        "rival": link_create(partner=rival, destination="https://acme-analytics.com/"),
    }


@pytest.fixture
def portal(partner_user) -> Client:
    client = Client()
    client.force_login(partner_user)
    return client


def status_set(partner, status, actor, capture) -> None:
    """Change the status through the lifecycle and run its on-commit hooks."""
    with capture(execute=True):
        partner_status_change(partner=partner, status=status, actor=actor)
    partner.refresh_from_db()


def cache_key(link: TrackingLink) -> str:
    return f"{clickqueue.LINK_KEY_PREFIX}{link.code}"


def queue_length() -> int:
    return clickqueue.client().llen(clickqueue.QUEUE_KEY)


# Links


@pytest.mark.parametrize("status", INACTIVE)
def test_inactive_partner_link_is_404(
    client, links, partner, admin_user, status, django_capture_on_commit_callbacks
):
    assert client.get(f"/r/{links['partner'].code}").status_code == 302
    client.cookies.clear()
    queued_before = queue_length()

    status_set(partner, status, admin_user, django_capture_on_commit_callbacks)
    response = client.get(f"/r/{links['partner'].code}")

    assert response.status_code == 404
    assert COOKIE_NAME not in response.cookies
    assert queue_length() == queued_before


def test_status_change_clears_link_cache(
    links, partner, admin_user, django_capture_on_commit_callbacks
):
    assert link_for_code(links["partner"].code) is not None
    assert link_for_code(links["rival"].code) is not None
    redis = clickqueue.client()
    assert redis.exists(cache_key(links["partner"]))

    status_set(partner, Partner.Status.PAUSED, admin_user, django_capture_on_commit_callbacks)

    assert not redis.exists(cache_key(links["partner"]))
    assert redis.exists(cache_key(links["rival"]))
    assert link_for_code(links["partner"].code) is None


def test_cached_link_expires_within_bound(links):
    link_for_code(links["partner"].code)

    ttl = clickqueue.client().ttl(cache_key(links["partner"]))

    assert 0 < ttl <= CACHE_SECONDS


def test_reactivated_partner_link_redirects(
    client, links, partner, admin_user, django_capture_on_commit_callbacks
):
    status_set(partner, Partner.Status.PAUSED, admin_user, django_capture_on_commit_callbacks)
    assert client.get(f"/r/{links['partner'].code}").status_code == 404

    status_set(partner, Partner.Status.ACTIVE, admin_user, django_capture_on_commit_callbacks)
    response = client.get(f"/r/{links['partner'].code}")

    assert response.status_code == 302
    assert COOKIE_NAME in response.cookies


# Conversions


@pytest.mark.parametrize("status", INACTIVE)
def test_inactive_partner_clicks_do_not_convert(
    client, headers, links, partner, rival, admin_user, status, django_capture_on_commit_callbacks
):
    AccountFactory(tenant=partner.tenant, domain="acme.com")
    client.get(f"/r/{links['partner'].code}")
    client.get(f"/r/{links['rival'].code}")
    visitor = client.cookies[COOKIE_NAME].value
    clicks_drain()
    status_set(partner, status, admin_user, django_capture_on_commit_callbacks)

    response = client.post(
        "/api/v1/touches/",
        {"visitor_id": visitor, "domain": "acme.com"},
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 201
    assert response.json()["touches_written"] == 1
    assert response.json()["partner_ids"] == [rival.pk]


def test_inactive_partner_late_clicks_do_not_convert(
    client, headers, links, partner, admin_user, django_capture_on_commit_callbacks
):
    client.get(f"/r/{links['partner'].code}")
    visitor = client.cookies[COOKIE_NAME].value
    client.post(
        "/api/v1/touches/",
        {"visitor_id": visitor, "domain": "acme.com"},
        content_type="application/json",
        headers=headers,
    )
    status_set(partner, Partner.Status.TERMINATED, admin_user, django_capture_on_commit_callbacks)

    result = clicks_drain()

    assert result.written == 1
    assert result.partners_by_tenant == {partner.tenant_id: [partner.pk]}
    assert not Touch.objects.filter(domain="acme.com").exists()


# Portal


@pytest.mark.parametrize("url", PORTAL_PAGES)
def test_terminated_portal_page_is_403(
    portal, partner, admin_user, url, django_capture_on_commit_callbacks
):
    status_set(partner, Partner.Status.TERMINATED, admin_user, django_capture_on_commit_callbacks)

    response = portal.get(url)

    assert response.status_code == 403
    assert "This partnership has ended" in response.content.decode()


def test_terminated_portal_post_is_403(
    portal, link_hosts, partner, admin_user, django_capture_on_commit_callbacks
):
    status_set(partner, Partner.Status.TERMINATED, admin_user, django_capture_on_commit_callbacks)

    response = portal.post("/attribution/portal/referrals/", {"domain": "acme.com"})

    assert response.status_code == 403
    assert Referral.objects.count() == 0


def test_terminated_portal_menu_lists_no_pages(
    portal, partner, admin_user, django_capture_on_commit_callbacks
):
    status_set(partner, Partner.Status.TERMINATED, admin_user, django_capture_on_commit_callbacks)

    page = portal.get("/partners/portal/").content.decode()

    assert "Register a referral" not in page
    assert "/attribution/portal/links/" not in page


@pytest.mark.parametrize("url", PORTAL_API)
def test_terminated_portal_api_is_403(
    portal, partner, admin_user, url, django_capture_on_commit_callbacks
):
    status_set(partner, Partner.Status.TERMINATED, admin_user, django_capture_on_commit_callbacks)

    response = portal.get(url)

    assert response.status_code == 403
    assert response.json()["message"] == PARTNERSHIP_ENDED_MESSAGE


@pytest.mark.parametrize("url", PORTAL_PAGES + PORTAL_API)
def test_paused_portal_still_reads(
    portal, link_hosts, partner, admin_user, url, django_capture_on_commit_callbacks
):
    status_set(partner, Partner.Status.PAUSED, admin_user, django_capture_on_commit_callbacks)

    response = portal.get(url)

    assert response.status_code == 200


def test_paused_partner_cannot_register(
    portal, partner, admin_user, django_capture_on_commit_callbacks
):
    status_set(partner, Partner.Status.PAUSED, admin_user, django_capture_on_commit_callbacks)

    page = portal.post("/attribution/portal/referrals/", {"domain": "acme.com"})
    api = portal.post(
        "/api/v1/portal/referrals/", {"domain": "acme.com"}, content_type="application/json"
    )

    assert page.status_code == 400
    assert "only active partners" in page.content.decode()
    assert api.status_code == 400
    assert api.json()["field"] == "partner"
    assert Referral.objects.count() == 0


def test_paused_partner_cannot_create_link(
    portal, link_hosts, partner, admin_user, django_capture_on_commit_callbacks
):
    status_set(partner, Partner.Status.PAUSED, admin_user, django_capture_on_commit_callbacks)

    page = portal.post("/attribution/portal/links/", {"destination": "https://acme-analytics.com/"})
    api = portal.post(
        "/api/v1/portal/links/",
        {"destination": "https://acme-analytics.com/"},
        content_type="application/json",
    )

    assert page.status_code == 400
    assert "only active partners get tracking links" in page.content.decode()
    assert api.status_code == 400
    assert api.json()["field"] == "partner"
    assert TrackingLink.objects.count() == 0
