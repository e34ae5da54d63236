"""A destructive button opens a dialog first: Cancel keeps the object, confirming acts."""

from __future__ import annotations

import pytest

from attribution.models import TrackingLink
from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.browser.test_manager_journey import log_in
from tests.factories import MembershipFactory, UserFactory
from tests.web.data import program_create


def _link_active(tenant, link) -> bool:
    with tenant_scope(tenant):
        return TrackingLink.objects.get(pk=link.pk).is_active


@pytest.mark.django_db(transaction=True)
def test_link_deactivation_dialog(page, live_server, screenshot, tenant):
    program = program_create(tenant, label="Acme")
    user = UserFactory(username="browser-confirm")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER_MANAGER)
    log_in(page, live_server, "browser-confirm")
    page.goto(f"{live_server.url}/attribution/partners/{program.partner.pk}/links/")

    page.get_by_role("button", name="Deactivate").click()
    dialog = page.get_by_role("dialog")
    assert dialog.get_by_role("heading").inner_text() == f"Deactivate the link {program.link.code}?"
    # The safe choice has the focus, so Enter alone never confirms.
    assert page.evaluate("document.activeElement.textContent") == "Cancel"
    screenshot("confirm-dialog")
    page.keyboard.press("Enter")
    assert not dialog.is_visible()
    assert _link_active(tenant, program.link)

    page.get_by_role("button", name="Deactivate").click()
    dialog.get_by_role("button", name="Deactivate link").click()
    page.wait_for_load_state("networkidle")

    assert f"Deactivated the link {program.link.code}." in page.content()
    assert not _link_active(tenant, program.link)
