"""The dashboard's and the portal's 15-second refresh keeps keyboard focus and open tables.

Playwright's fake clock fires htmx's real `every 15s` poll at once, so each test
runs the same request and outerHTML swap as a browser left open on the page.
"""

from __future__ import annotations

import pytest

from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.browser.test_manager_journey import log_in
from tests.factories import MembershipFactory, UserFactory
from tests.web.data import ledger_entry_create, program_create

REFRESH_MS = 15_000
# More than one page of the portal's commission entries (50 a page).
PORTAL_ENTRIES = 55

FOCUSED_KEY = """
() => {
  const element = document.activeElement;
  return element.tagName + " " + (element.getAttribute("href") || "") + " " +
    element.textContent.trim();
}
"""


def _refresh(page, container_id: str, live_path: str) -> None:
    """Fire the poll of `container_id` and wait until its new copy is in the page."""
    # The old copy carries a mark that the server's fresh copy does not have.
    page.evaluate(f"document.getElementById('{container_id}').dataset.oldCopy = 'true'")
    with page.expect_response(lambda response: live_path in response.url) as response:
        page.clock.run_for(REFRESH_MS)
    assert response.value.status == 200
    # htmx swaps without a delay and settles 20 ms later.
    page.clock.run_for(100)
    assert page.evaluate(f"document.getElementById('{container_id}').dataset.oldCopy") is None


def _open_details(page) -> list[str]:
    return page.evaluate(
        "Array.from(document.querySelectorAll('details[open]'))"
        ".map((details) => details.dataset.liveKey)"
    )


@pytest.mark.django_db(transaction=True)
def test_dashboard_refresh_keeps_focus(page, live_server, tenant):
    program = program_create(tenant, label="Acme")
    user = UserFactory(username="live-manager")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER_MANAGER)
    log_in(page, live_server, "live-manager")
    page.clock.install()
    page.goto(f"{live_server.url}/")

    live = page.locator("#dashboard-live")
    first_table = live.locator("details.chart-data").first
    first_table.locator("summary").click()
    opened = _open_details(page)
    leaderboard_link = live.get_by_role("link", name=program.partner.name)
    leaderboard_link.focus()
    focused = page.evaluate(FOCUSED_KEY)
    _refresh(page, "dashboard-live", "/dashboard/live/")

    assert len(opened) == 1
    assert opened[0]
    assert _open_details(page) == opened
    assert page.evaluate(FOCUSED_KEY) == focused
    assert page.evaluate("document.activeElement.closest('#dashboard-live') !== null")
    # The next Tab goes on from the link, not to the skip link at the top.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") != "Skip to content"
    # The charts are drawn again in the new copy.
    assert live.locator("figure[data-chart-drawn='true']").count() > 0


@pytest.mark.django_db(transaction=True)
def test_dashboard_refresh_keeps_summary_focus(page, live_server, tenant):
    program_create(tenant, label="Acme")
    user = UserFactory(username="live-summary")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER_MANAGER)
    log_in(page, live_server, "live-summary")
    page.clock.install()
    page.goto(f"{live_server.url}/")

    summaries = page.locator("#dashboard-live details.chart-data summary")
    second = summaries.nth(1)
    second.focus()
    page.keyboard.press("Enter")
    opened = _open_details(page)
    _refresh(page, "dashboard-live", "/dashboard/live/")

    assert len(opened) == 1
    assert _open_details(page) == opened
    assert page.evaluate(
        "document.activeElement === "
        "document.querySelectorAll('#dashboard-live details.chart-data summary')[1]"
    )


@pytest.mark.django_db(transaction=True)
def test_portal_refresh_keeps_next_link_focus(page, live_server, tenant):
    program = program_create(tenant, label="Acme")
    with tenant_scope(tenant):
        for number in range(PORTAL_ENTRIES):
            ledger_entry_create(partner=program.partner, idempotency_key=f"live:{number}")
    log_in(page, live_server, program.portal_membership.user.username)
    page.clock.install()
    page.goto(f"{live_server.url}/partners/portal/")

    live = page.locator("#portal-live")
    live.locator("details.chart-data summary").click()
    opened = _open_details(page)
    next_link = live.get_by_role("link", name="Next →")
    next_link.focus()
    focused = page.evaluate(FOCUSED_KEY)
    _refresh(page, "portal-live", "/partners/portal/live/")

    assert len(opened) == 1
    assert _open_details(page) == opened
    assert focused.startswith("A ?page=2 ")
    assert page.evaluate(FOCUSED_KEY) == focused
    assert page.evaluate("document.activeElement.closest('#portal-live') !== null")


@pytest.mark.django_db(transaction=True)
def test_portal_refresh_waits_while_typing(page, live_server, tenant):
    program = program_create(tenant, label="Acme")
    log_in(page, live_server, program.portal_membership.user.username)
    page.clock.install()
    page.goto(f"{live_server.url}/partners/portal/")
    # No form sits in the fragment today, so the test adds a text input to it.
    page.evaluate(
        "document.getElementById('portal-live').insertAdjacentHTML("
        "'afterbegin', '<label>Note <input id=\"typed-note\"></label>')"
    )
    page.locator("#typed-note").fill("half a sentence")
    requests = []
    page.on("request", lambda request: requests.append(request.url))

    page.clock.run_for(REFRESH_MS * 2)
    page.locator("#typed-note").blur()
    # An edited field keeps the poll waiting after it loses focus.
    page.clock.run_for(REFRESH_MS)
    page.wait_for_timeout(300)
    skipped = [url for url in requests if "/partners/portal/live/" in url]
    still_there = page.locator("#typed-note").input_value()
    page.evaluate("document.getElementById('typed-note').closest('label').remove()")
    with page.expect_response(lambda response: "/partners/portal/live/" in response.url):
        page.clock.run_for(REFRESH_MS)

    assert skipped == []
    assert still_there == "half a sentence"
