"""A partner user logs in to the portal and reads its own pages in a real browser."""

from __future__ import annotations

import pytest

from attribution.models import Referral
from tenancy.scope import tenant_scope
from tests.browser.test_manager_journey import log_in
from tests.web.data import program_create


@pytest.mark.django_db(transaction=True)
def test_partner_reads_portal_and_statement(page, live_server, screenshot, tenant, other_tenant):
    program = program_create(tenant, label="Acme")
    program_create(other_tenant, label="Globex")

    log_in(page, live_server, program.portal_membership.user.username)
    portal = page.goto(f"{live_server.url}/partners/portal/")
    portal_html = page.content()
    screenshot("portal")
    statement = page.goto(f"{live_server.url}/partners/portal/statements/{program.payout.pk}/")
    statement_html = page.content()
    screenshot("portal-statement")
    page.goto(f"{live_server.url}/ledger/")

    assert portal.status == 200
    assert program.partner.name in portal_html
    assert "Globex" not in portal_html
    assert statement.status == 200
    assert "1,875.00" in statement_html
    # The staff ledger sends a partner user back to its portal.
    assert page.url.endswith("/partners/portal/")


@pytest.mark.django_db(transaction=True)
def test_partner_registers_a_referral(page, live_server, screenshot, tenant):
    program = program_create(tenant, label="Acme")

    log_in(page, live_server, program.portal_membership.user.username)
    page.goto(f"{live_server.url}/attribution/portal/referrals/")
    page.get_by_label("Company", exact=True).fill("https://www.fresh-prospect.com/pricing")
    page.get_by_role("button", name="Register").click()
    page.wait_for_load_state("networkidle")
    screenshot("portal-referral-registered")

    with tenant_scope(tenant):
        referral = Referral.objects.filter(partner=program.partner, domain="fresh-prospect.com")
        assert referral.exists()
    assert "fresh-prospect.com" in page.content()
