"""A company applies, confirms its e-mail, waits for review, is activated and earns commission."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail

from commissions.models import LedgerEntry
from crm.services import deal_upsert
from partners.models import Partner
from partners.views import PORTAL_REFRESH_SECONDS
from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.browser.test_manager_journey import PASSWORD, log_in
from tests.factories import AccountFactory, CommissionPlanFactory, MembershipFactory, UserFactory
from tests.pipeline.conftest import make_active_version
from tests.web.test_two_factor import totp_code

EMAIL = "jane@northwind-consulting.com"
LINK = re.compile(r"http://testserver(/apply/acme/confirm/[^/\s]+/)")


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state("networkidle")


@pytest.mark.django_db(transaction=True)
def test_applicant_signs_up_and_earns(page, live_server, screenshot, tenant):
    tenant.applications_open = True
    tenant.save()
    with tenant_scope(tenant):
        make_active_version(tenant)
        CommissionPlanFactory(tenant=tenant, base_rate=Decimal("0.1000"))
        # Software with 5,000 employees is tier A of the active profile.
        AccountFactory(
            name="Fresh Prospect",
            external_id="fresh-1",
            domain="fresh-prospect.com",
            industry="software",
            employees=5000,
        )
    manager = UserFactory(username="browser-manager")
    MembershipFactory(tenant=tenant, user=manager, role=Membership.Role.PARTNER_MANAGER)
    mail.outbox.clear()

    # The company applies on the public page.
    page.goto(f"{live_server.url}/apply/{tenant.slug}/")
    page.get_by_label("Company name").fill("Northwind Consulting")
    page.get_by_label("Website").fill("https://northwind-consulting.com")
    page.get_by_label("Contact name").fill("Jane Doe")
    page.get_by_label("Contact e-mail").fill(EMAIL)
    page.get_by_role("button", name="Send application").click()
    page.wait_for_load_state("networkidle")
    screenshot("signup-application-sent")
    assert "We sent a link to" in page.content()

    # The link from the e-mail confirms the address and sets the password.
    assert len(mail.outbox) == 1
    path = LINK.search(mail.outbox[0].body).group(1)
    page.goto(f"{live_server.url}{path}")
    screenshot("signup-choose-password")
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("New password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Confirm and set password").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/login/")
    assert "Your e-mail address is confirmed" in page.content()
    screenshot("signup-confirmed-login")

    # Until a manager activates the partner, the portal shows the review as pending.
    log_in(page, live_server, EMAIL)
    assert page.url.endswith("/partners/portal/")
    assert "Your application is under review" in page.content()
    screenshot("signup-under-review")
    page.goto(f"{live_server.url}/attribution/portal/referrals/")
    assert page.url.endswith("/partners/portal/")
    log_out(page)

    # A manager opens the verified application and activates the partner on its page.
    log_in(page, live_server, "browser-manager")
    page.goto(f"{live_server.url}/partners/applications/")
    assert "E-mail verified" in page.content()
    screenshot("signup-applications-list")
    page.get_by_role("link", name="Northwind Consulting").first.click()
    page.wait_for_load_state("networkidle")
    page.get_by_label("New status").select_option("active")
    page.get_by_role("button", name="Change status").click()
    page.wait_for_load_state("networkidle")
    screenshot("signup-partner-activated")
    with tenant_scope(tenant):
        partner = Partner.objects.get(domain="northwind-consulting.com")
    assert partner.status == Partner.Status.ACTIVE
    log_out(page)

    # The same log-in now reaches the full portal, and the partner registers a referral.
    log_in(page, live_server, EMAIL)
    assert "under review" not in page.content()
    page.goto(f"{live_server.url}/attribution/portal/referrals/")
    page.get_by_label("Company", exact=True).fill("fresh-prospect.com")
    page.get_by_role("button", name="Register").click()
    page.wait_for_load_state("networkidle")
    screenshot("signup-referral-registered")
    assert "Registered fresh-prospect.com" in page.content()

    page.goto(f"{live_server.url}/partners/portal/")
    commissions = page.locator("section", has_text="Commission entries")
    assert "No commission entries yet" in commissions.inner_text()

    # The CRM reports the referred account's deal as won; the pipeline books commission.
    with tenant_scope(tenant):
        deal_upsert(
            tenant=tenant,
            external_id="NW-WON-1",
            stage="won",
            amount=Decimal("1000.00"),
            close_date=tenant.today(),
            account_domain="fresh-prospect.com",
        )
        entry = LedgerEntry.objects.get(partner=partner)
    assert entry.amount == Decimal("150.00")

    # The open portal polls its results, so the entry appears without a reload.
    entries = page.locator("#portal-live")
    entries.get_by_text("NW-WON-1").wait_for(timeout=(PORTAL_REFRESH_SECONDS + 10) * 1000)
    screenshot("signup-portal-commission")
    assert "150.00" in commissions.inner_text()


@pytest.mark.django_db(transaction=True)
def test_manager_turns_on_two_factor(page, live_server, screenshot, tenant):
    manager = UserFactory(username="browser-manager")
    MembershipFactory(tenant=tenant, user=manager, role=Membership.Role.PARTNER_MANAGER)

    log_in(page, live_server, "browser-manager")
    page.get_by_role("link", name="Security").click()
    page.wait_for_load_state("networkidle")
    screenshot("security-off")
    page.get_by_role("link", name="Turn on two-factor authentication").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state("networkidle")
    screenshot("security-activate")
    secret = page.get_by_label("Secret, if you cannot scan the code").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Turn on").click()
    page.wait_for_load_state("networkidle")
    screenshot("security-recovery-codes")
    assert "Unused codes" in page.content()
    log_out(page)

    log_in(page, live_server, "browser-manager")
    assert page.url.endswith("/auth/2fa/authenticate/")
    screenshot("security-code-step")
    page.get_by_label("Code", exact=True).fill(totp_code(secret, offset_periods=1))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")
    assert "Enter your code" in page.content()
    page.get_by_label("Code", exact=True).fill(totp_code(secret))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")
    screenshot("security-logged-in")
    assert page.url.endswith("/")
    assert "Dashboard" in page.content()
