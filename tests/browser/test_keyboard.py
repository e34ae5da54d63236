"""Keyboard users reach the content without tabbing through the menu."""

from __future__ import annotations

import pytest

from tenancy.models import Membership
from tests.browser.test_manager_journey import log_in
from tests.factories import MembershipFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_skip_link_first_tab_stop(page, live_server, tenant):
    user = UserFactory(username="browser-keyboard")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER_MANAGER)
    log_in(page, live_server, "browser-keyboard")

    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")

    assert focused == "Skip to content"
    assert page.url.endswith("#main")
