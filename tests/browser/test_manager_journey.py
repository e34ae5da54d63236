"""A partner manager logs in, walks the main pages and approves a payout in a real browser."""

from __future__ import annotations

import pytest

from commissions.models import Payout
from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.factories import MembershipFactory, UserFactory
from tests.web.data import program_create

PASSWORD = "pass-word-123"


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")


@pytest.mark.django_db(transaction=True)
def test_manager_walks_pages_and_approves_payout(page, live_server, screenshot, tenant):
    program = program_create(tenant, label="Acme")
    user = UserFactory(username="browser-manager")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER_MANAGER)

    log_in(page, live_server, "browser-manager")
    assert "/login/" not in page.url
    screenshot("dashboard")

    for name, path in [
        ("partners", "/partners/"),
        ("ledger", "/ledger/"),
        ("commission-plan", "/ledger/plan/"),
        ("payouts", "/ledger/payouts/"),
    ]:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        screenshot(name)

    page.goto(f"{live_server.url}/ledger/payouts/{program.payout.pk}/")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_load_state("networkidle")
    screenshot("payout-approved")

    with tenant_scope(tenant):
        program.payout.refresh_from_db()
    assert program.payout.status == Payout.Status.APPROVED
    assert program.payout.approved_by == user
