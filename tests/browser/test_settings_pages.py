"""An admin manages users and webhook endpoints, and a partner reads its links, in a browser."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail

from attribution.models import Touch
from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.browser.test_manager_journey import log_in
from tests.factories import ClickFactory, DealFactory, MembershipFactory, UserFactory
from tests.web.data import program_create
from webhooks import ssrf
from webhooks.models import WebhookEndpoint


@pytest.mark.django_db(transaction=True)
def test_admin_manages_users_and_webhooks(page, live_server, screenshot, tenant, monkeypatch):
    program = program_create(tenant, label="Acme")
    admin = UserFactory(username="browser-admin", first_name="Ada", last_name="Admin")
    MembershipFactory(tenant=tenant, user=admin, role=Membership.Role.ADMIN)
    # Endpoint hosts resolve to a public address without a DNS query. Creating an
    # endpoint sends nothing, so no request leaves the machine.
    monkeypatch.setattr(ssrf, "resolve_host", lambda host, port: ["93.184.215.14"])

    log_in(page, live_server, "browser-admin")
    page.goto(f"{live_server.url}/settings/")
    screenshot("settings")
    page.get_by_role("link", name="Manage users").click()
    users_html = page.content()
    screenshot("settings-users")

    page.get_by_label("E-mail address").fill("lee@acme.example")
    page.get_by_label("Role", exact=True).select_option("partner_manager")
    page.get_by_role("button", name="Send invitation").click()
    page.wait_for_load_state("networkidle")
    invited_html = page.content()
    screenshot("settings-users-invited")

    analyst = program.staff_membership
    page.locator(f"#member-{analyst.pk}").get_by_role("link", name="Remove…").click()
    confirm_html = page.content()
    screenshot("settings-user-remove-confirm")
    page.get_by_role("button", name="Remove user").click()
    page.wait_for_load_state("networkidle")
    removed_html = page.content()
    screenshot("settings-users-removed")

    page.goto(f"{live_server.url}/webhooks/")
    page.get_by_role("link", name="New endpoint").click()
    page.get_by_label("URL").fill("https://hooks.acme.example/track360")
    page.get_by_label("deal.scored: A won deal was booked with its frozen fit").check()
    page.get_by_label("Description").fill("ERP sync")
    screenshot("webhook-endpoint-new")
    page.get_by_role("button", name="Create endpoint").click()
    page.wait_for_load_state("networkidle")
    secret_html = page.content()
    screenshot("webhook-endpoint-created")
    page.goto(f"{live_server.url}/webhooks/")
    screenshot("webhooks")

    assert "acme-analyst@example.com" in users_html
    assert "Invited lee@acme.example as partner manager." in invited_html
    lee = Membership.objects.get(tenant=tenant, user__username="lee@acme.example")
    assert lee.role == Membership.Role.PARTNER_MANAGER
    assert [message.to for message in mail.outbox] == [["lee@acme.example"]]
    assert "Remove acme-analyst@example.com from Acme Analytics?" in confirm_html
    assert "Removed acme-analyst@example.com from Acme Analytics." in removed_html
    assert not Membership.objects.filter(pk=analyst.pk).exists()
    with tenant_scope(tenant):
        endpoint = WebhookEndpoint.objects.get(url="https://hooks.acme.example/track360")
    assert endpoint.event_types == ["deal.scored"]
    assert endpoint.secret in secret_html


@pytest.mark.django_db(transaction=True)
def test_partner_reads_link_conversions(page, live_server, screenshot, tenant):
    program = program_create(tenant, label="Acme")
    with tenant_scope(tenant):
        clicks = [
            ClickFactory(link=program.link, partner=program.partner, clicked_at=moment)
            for moment in (
                datetime.datetime(2017, 5, day, 9, tzinfo=datetime.UTC) for day in (2, 3, 4, 5)
            )
        ]
        # The first visitor became the company whose deal was won for the partner.
        Touch.objects.create(
            partner=program.partner,
            domain=program.account.domain,
            kind=Touch.Kind.LINK,
            touched_at=clicks[0].clicked_at,
            click=clicks[0],
            idempotency_key="link:browser",
        )
        DealFactory(external_id="acme-link-win", account=program.account, partner=program.partner)

    log_in(page, live_server, program.portal_membership.user.username)
    response = page.goto(f"{live_server.url}/attribution/portal/links/")
    links_html = page.content()
    screenshot("portal-links")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot("portal-links-narrow")

    assert response.status == 200
    assert program.link.code in links_html
    assert "25.0%" in links_html
    assert "A conversion is a company" in links_html
