"""axe-core finds no serious or critical accessibility violation on the main pages.

axe-core (tests/browser/vendor/axe-core, MPL-2.0) checks labels, names of
buttons and links, contrast, landmarks and ARIA use in the rendered page.
Moderate and minor findings are not failures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tenancy.models import Membership
from tests.browser.test_manager_journey import log_in
from tests.browser.test_small_screens import PORTAL_PAGES, staff_pages
from tests.factories import MembershipFactory, UserFactory
from tests.web.data import program_create

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")
RUN_AXE = """
async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    targets: violation.nodes.slice(0, 3).map((node) => node.target.join(" ")),
  }));
}
"""


def _violations(browser, live_server, username: str | None, pages) -> list[str]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    if username is not None:
        log_in(page, live_server, username)
    found = []
    for _name, path in pages:
        page.goto(f"{live_server.url}{path}")
        page.add_script_tag(path=str(AXE))
        for violation in page.evaluate(RUN_AXE):
            if violation["impact"] in FAILING_IMPACTS:
                found.append(
                    f"{path}: {violation['id']} ({violation['impact']}): {violation['help']} "
                    f"at {violation['targets']}"
                )
    context.close()
    return found


@pytest.mark.django_db(transaction=True)
def test_main_pages_pass_axe(browser, live_server, tenant):
    program = program_create(tenant, label="Acme")
    admin = UserFactory(username="axe-admin")
    MembershipFactory(tenant=tenant, user=admin, role=Membership.Role.ADMIN)
    partner_user = UserFactory(username="axe-partner")
    MembershipFactory(
        tenant=tenant, user=partner_user, role=Membership.Role.PARTNER, partner=program.partner
    )

    extra = [
        ("users", "/settings/users/"),
        ("endpoint-new", "/webhooks/endpoints/new/"),
        ("security", "/auth/2fa/"),
        ("partners-sorted", "/partners/?sort=-won_revenue&status=active"),
        ("simulate", f"/ledger/plans/{program.plan.pk}/simulate/"),
        ("job", f"/jobs/{program.job.pk}/"),
    ]
    found = _violations(browser, live_server, "axe-admin", staff_pages(program) + extra)
    found += _violations(browser, live_server, "axe-partner", PORTAL_PAGES)

    assert found == [], "\n".join(found)


@pytest.mark.django_db(transaction=True)
def test_public_pages_pass_axe(browser, live_server, tenant):
    tenant.applications_open = True
    tenant.save(update_fields=["applications_open"])
    pages = [("login", "/login/"), ("apply", f"/apply/{tenant.slug}/")]

    found = _violations(browser, live_server, None, pages)

    assert found == [], "\n".join(found)
