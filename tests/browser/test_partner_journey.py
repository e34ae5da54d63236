"""A partner user logs in to the portal and reads its own pages in a real browser."""

from __future__ import annotations

import pytest

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
