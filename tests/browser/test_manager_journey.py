"""A partner manager logs in, walks the main pages and approves a payout in a real browser."""

from __future__ import annotations

import pytest

from commissions.models import Payout
from crm.models import Deal
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


@pytest.mark.django_db(transaction=True)
def test_manager_imports_deals_from_the_page(page, live_server, screenshot, tenant, tmp_path):
    program = program_create(tenant, label="Acme")
    user = UserFactory(username="browser-importer")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER_MANAGER)
    csv_file = tmp_path / "deals.csv"
    csv_file.write_text(
        "external_id,account_external_id,stage,amount,close_date\n"
        f"BR-1,{program.account.external_id},open,1200.00,2017-07-01\n"
        f"BR-2,{program.account.external_id},lost,800.00,2017-07-02\n"
    )

    log_in(page, live_server, "browser-importer")
    page.goto(f"{live_server.url}/accounts/imports/")
    page.get_by_label("File contains").select_option("deals")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Import").click()
    page.wait_for_load_state("networkidle")
    screenshot("import-result")

    assert "/accounts/imports/" in page.url
    created = page.locator(".card", has_text="Created").locator(".card-value")
    assert created.inner_text() == "2"
    with tenant_scope(tenant):
        stored = set(
            Deal.objects.filter(external_id__startswith="BR-").values_list("stage", flat=True)
        )
    assert stored == {"open", "lost"}
