"""The main pages fit a 375 px wide phone screen: no page scrolls sideways as a whole.

Wide tables scroll inside their own box and the menu scrolls in one row, so what
is measured here is the document's width against the window's.
"""

from __future__ import annotations

import pytest

from tenancy.models import Membership
from tests.browser.conftest import SCREENSHOT_DIR
from tests.browser.test_manager_journey import log_in
from tests.factories import MembershipFactory, UserFactory
from tests.web.data import program_create

PHONE = {"width": 375, "height": 800}
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def staff_pages(program) -> list[tuple[str, str]]:
    return [
        ("dashboard", "/"),
        ("partners", "/partners/"),
        ("partner", f"/partners/{program.partner.pk}/"),
        ("accounts", "/accounts/"),
        ("account", f"/accounts/{program.account.pk}/"),
        ("icp", "/icp/"),
        ("icp-review", "/icp/review/"),
        ("referrals", "/attribution/referrals/"),
        ("ledger", "/ledger/"),
        ("plan", "/ledger/plan/"),
        ("payouts", "/ledger/payouts/"),
        ("payout", f"/ledger/payouts/{program.payout.pk}/"),
        ("mdf", "/ledger/mdf/"),
        ("imports", "/accounts/imports/"),
        ("fraud", "/fraud/"),
        ("webhooks", "/webhooks/"),
        ("settings", "/settings/"),
        ("api-keys", "/settings/api-keys/"),
    ]


PORTAL_PAGES = [
    ("portal", "/partners/portal/"),
    ("portal-referrals", "/attribution/portal/referrals/"),
    ("portal-links", "/attribution/portal/links/"),
    ("portal-mdf", "/partners/portal/mdf/"),
]


def _visit(browser, live_server, username: str, pages, screenshot_dir) -> list[str]:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server, username)
    failures = []
    for name, path in pages:
        response = page.goto(f"{live_server.url}{path}")
        if response.status != 200:
            failures.append(f"{path} answered {response.status}")
            continue
        overflow = page.evaluate(OVERFLOW)
        if overflow > 0:
            failures.append(f"{path} is {overflow} px wider than the screen")
        screenshot_dir.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot_dir / f"phone-{name}.png"), full_page=True)
    context.close()
    return failures


@pytest.mark.django_db(transaction=True)
def test_pages_fit_phone_width(browser, live_server, tenant):
    program = program_create(tenant, label="Acme")
    admin = UserFactory(username="phone-admin")
    MembershipFactory(tenant=tenant, user=admin, role=Membership.Role.ADMIN)
    partner_user = UserFactory(username="phone-partner")
    MembershipFactory(
        tenant=tenant, user=partner_user, role=Membership.Role.PARTNER, partner=program.partner
    )

    failures = _visit(browser, live_server, "phone-admin", staff_pages(program), SCREENSHOT_DIR)
    failures += _visit(browser, live_server, "phone-partner", PORTAL_PAGES, SCREENSHOT_DIR)

    assert failures == []
