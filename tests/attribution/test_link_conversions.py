"""Conversions and conversion rate of tracking links on the staff and portal link pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from attribution import selectors
from attribution.models import Touch
from crm.models import Deal
from tenancy.models import Membership
from tests.factories import (
    AccountFactory,
    ClickFactory,
    DealFactory,
    MembershipFactory,
    TrackingLinkFactory,
    UserFactory,
)

PORTAL_LINKS = "/attribution/portal/links/"


def _partner_links(partner) -> str:
    return f"/attribution/partners/{partner.pk}/links/"


def _link_touch(click, domain: str) -> Touch:
    """Store the touch that a reported conversion of the click's visitor writes."""
    return Touch.objects.create(
        partner_id=click.partner_id,
        domain=domain,
        kind=Touch.Kind.LINK,
        touched_at=click.clicked_at,
        click=click,
        idempotency_key=f"link:{click.click_id}:{domain}",
    )


def _won_deal(domain: str, partner, stage=Deal.Stage.WON) -> Deal:
    account = AccountFactory(domain=domain, name=domain)
    return DealFactory(account=account, partner=partner, stage=stage)


@pytest.fixture
def manager(scoped):
    user = UserFactory(username="links-manager")
    MembershipFactory(tenant=scoped, user=user, role=Membership.Role.PARTNER_MANAGER)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def portal(client, partner_user):
    client.force_login(partner_user)
    return client


@pytest.fixture
def converted_link(partner, rival):
    """A link with four clicks whose visitors became three companies, one of them a win."""
    link = TrackingLinkFactory(partner=partner, code="north01", label="Newsletter")
    clicks = [ClickFactory(link=link, partner=partner) for _ in range(4)]
    _link_touch(clicks[0], "won.example")
    _won_deal("won.example", partner)
    # A second click of another visitor who became the same company counts once.
    _link_touch(clicks[1], "won.example")
    _link_touch(clicks[2], "open.example")
    _won_deal("open.example", partner, stage=Deal.Stage.OPEN)
    _link_touch(clicks[3], "rival.example")
    _won_deal("rival.example", rival)
    return link


def test_conversion_counts_won_companies_once(converted_link):
    link = selectors.link_list(with_conversions=True).get(pk=converted_link.pk)

    assert link.click_count == 4
    assert link.conversion_count == 1


def test_registration_touch_is_no_conversion(partner):
    link = TrackingLinkFactory(partner=partner, code="north02")
    ClickFactory(link=link, partner=partner)
    Touch.objects.create(
        partner=partner,
        domain="registered.example",
        kind=Touch.Kind.REGISTRATION,
        touched_at=timezone.now(),
        idempotency_key="registration:test",
    )
    _won_deal("registered.example", partner)

    row = selectors.link_list(with_conversions=True).get(pk=link.pk)

    assert row.conversion_count == 0


def test_staff_page_shows_conversions(manager, converted_link, partner):
    response = manager.get(_partner_links(partner))

    body = response.content.decode()
    assert response.status_code == 200
    assert '<td class="num">4</td>\n      <td class="num">1</td>' in body
    assert "25.0%" in body
    assert "has a won deal credited to the partner" in body


def test_portal_page_shows_conversions(portal, converted_link):
    response = portal.get(PORTAL_LINKS)

    body = response.content.decode()
    assert response.status_code == 200
    assert '<td class="num">4</td>\n      <td class="num">1</td>' in body
    assert "25.0%" in body


def test_link_without_clicks_has_no_rate(portal, partner):
    TrackingLinkFactory(partner=partner, code="north03")

    body = portal.get(PORTAL_LINKS).content.decode()

    assert '<td class="num">0</td>\n      <td class="num">0</td>' in body
    assert '<span class="muted">–</span></td>' in body
    assert "%" not in body.split("north03")[1].split("</tr>")[0]


def test_link_pages_query_count_is_flat(manager, partner):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager.get(_partner_links(partner)).status_code == 200
        return len(captured)

    link = TrackingLinkFactory(partner=partner, code="flat00")
    _link_touch(ClickFactory(link=link, partner=partner), "flat0.example")
    _won_deal("flat0.example", partner)
    one_link = queries()
    for number in range(1, 6):
        link = TrackingLinkFactory(partner=partner, code=f"flat0{number}")
        domain = f"flat{number}.example"
        _link_touch(ClickFactory(link=link, partner=partner), domain)
        _won_deal(domain, partner)

    assert queries() == one_link


def test_portal_query_count_is_flat(portal, partner, django_assert_max_num_queries):
    for number in range(6):
        link = TrackingLinkFactory(partner=partner, code=f"port0{number}")
        domain = f"port{number}.example"
        _link_touch(ClickFactory(link=link, partner=partner), domain)
        _won_deal(domain, partner)

    # Measured at 8 with six links. One query reads the links with their clicks and
    # conversions, and the others load the session, user, partner and page count.
    with django_assert_max_num_queries(8):
        response = portal.get(PORTAL_LINKS)

    assert response.content.decode().count("100.0%") == 6


def test_portal_empty_state_says_how(portal, link_hosts):
    body = portal.get(PORTAL_LINKS).content.decode()

    assert "Create your first one with the form above" in body
    assert "acme-analytics.com/pricing" in body


def test_staff_empty_state_says_how(manager, link_hosts, partner):
    body = manager.get(_partner_links(partner)).content.decode()

    assert "Create the first one with the form above" in body
