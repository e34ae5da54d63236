"""A manager reads the dashboard, activates another ICP version and the partners move.

Deals keep the tier frozen when they were won, so the dashboard's ranking by
on-profile revenue does not change when another version is activated. The visible
change is in what follows the active version: the overlap score column of the
dashboard's leaderboard, and the order of the partner list sorted by overlap score.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest

from crm.services import deal_upsert
from icp import services as icp_services
from partners.models import PartnerScore
from partners.services import partner_scores_refresh
from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.browser.test_manager_journey import log_in
from tests.factories import (
    AccountFactory,
    CommissionPlanFactory,
    MembershipFactory,
    PartnerFactory,
    ReachEntryFactory,
    UserFactory,
)

CUTOFFS = {"A": 80, "B": 40, "C": 20}
INDUSTRY = {
    "key": "industry",
    "label": "Industry: software",
    "field": "industry",
    "kind": "category",
    "values": ["software"],
    "weight": 60,
}
EMPLOYEES = {
    "key": "employees",
    "label": "Employees 200 or more",
    "field": "employees",
    "kind": "range",
    "min": 200,
    "max": None,
}
# v1 favours software companies, and v2 looks at company size alone.
SOFTWARE_FIRST = [INDUSTRY, {**EMPLOYEES, "weight": 40}]
SIZE_ONLY = [{**EMPLOYEES, "weight": 100}]
CHARTS_DRAWN = "document.querySelectorAll('figure[data-chart-drawn=\"true\"]').length === 4"


def _reach(partner, accounts: list[tuple[str, int]], prefix: str) -> None:
    for index, (industry, employees) in enumerate(accounts):
        account = AccountFactory(
            name=f"{prefix} prospect {index}",
            domain=f"{prefix.lower()}-prospect-{index}.com",
            industry=industry,
            employees=employees,
        )
        ReachEntryFactory(partner=partner, domain=account.domain, account=account)


def seed(tenant):
    """Store v1 (active) and v2 (draft), two partners with reach and one won deal each.

    Under v1, all four of Northwind's reach accounts are tier A or B, and three of
    Southpaw's four. Under v2, one of Northwind's is, and still three of Southpaw's.
    """
    with tenant_scope(tenant):
        CommissionPlanFactory()
        northwind = PartnerFactory(name="Northwind Resellers", external_id="northwind")
        southpaw = PartnerFactory(name="Southpaw Agency", external_id="southpaw")
        software_small = ("software", 50)
        retail_large = ("retail", 900)
        _reach(northwind, [software_small] * 3 + [("software", 900)], "Northwind")
        _reach(southpaw, [retail_large] * 3 + [("retail", 50)], "Southpaw")
        customers = [
            AccountFactory(name=f"Customer {index}", industry="software", employees=900)
            for index in range(2)
        ]
    v1 = icp_services.icp_version_create(
        tenant=tenant, name="Software first", criteria=SOFTWARE_FIRST, tier_cutoffs=CUTOFFS
    )
    icp_services.icp_version_activate(version=v1)
    for external_id, customer, partner, amount in [
        ("won-northwind", customers[0], "northwind", "5000.00"),
        ("won-southpaw", customers[1], "southpaw", "3000.00"),
    ]:
        with tenant_scope(tenant):
            deal_upsert(
                tenant=tenant,
                external_id=external_id,
                stage="won",
                amount=Decimal(amount),
                currency="USD",
                close_date=datetime.date(2017, 5, 15),
                account_external_id=customer.external_id,
                partner_external_id=partner,
            )
    partner_scores_refresh(tenant=tenant)
    v2 = icp_services.icp_version_create(
        tenant=tenant, name="Size only", criteria=SIZE_ONLY, tier_cutoffs=CUTOFFS
    )
    return northwind, southpaw, v2


def overlap_scores(tenant) -> dict[str, int]:
    with tenant_scope(tenant):
        return dict(PartnerScore.objects.values_list("partner__name", "overlap_score"))


def leaderboard(page) -> list[tuple[str, str]]:
    """Return each dashboard leaderboard row as (partner name, overlap score shown)."""
    rows = page.locator("section", has=page.get_by_role("heading", name="Partner leaderboard"))
    result = []
    for row in rows.locator("tbody tr").all():
        cells = row.locator("td")
        name = cells.nth(1).locator("a").inner_text()
        result.append((name, cells.nth(7).inner_text()))
    return result


def partner_list_names(page) -> list[str]:
    return page.locator("tbody td.name-cell > a").all_inner_texts()


def assert_charts_drawn(page) -> None:
    page.wait_for_function(CHARTS_DRAWN)
    drawn = page.evaluate(
        """() => typeof window.Chart === "function"
            && Array.from(document.querySelectorAll("figure[data-chart] canvas"))
                .filter((canvas) => window.Chart.getChart(canvas)).length"""
    )
    assert drawn == 4


@pytest.mark.django_db(transaction=True)
def test_icp_activation_moves_leaderboard(page, live_server, screenshot, tenant):
    northwind, southpaw, v2 = seed(tenant)
    before = overlap_scores(tenant)
    assert before["Northwind Resellers"] > before["Southpaw Agency"]
    user = UserFactory(username="browser-leaderboard")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER_MANAGER)

    # The dashboard ranks by frozen on-profile revenue and shows the current overlap.
    log_in(page, live_server, "browser-leaderboard")
    page.goto(f"{live_server.url}/")
    assert_charts_drawn(page)
    assert leaderboard(page) == [
        ("Northwind Resellers", str(before["Northwind Resellers"])),
        ("Southpaw Agency", str(before["Southpaw Agency"])),
    ]
    screenshot("dashboard-desktop")
    page.locator("#charts-title").scroll_into_view_if_needed()
    screenshot("dashboard-charts")

    # A poll replaces the fragment: the old charts are destroyed and new ones drawn.
    page.evaluate(
        """() => new Promise((resolve) => {
            document.body.addEventListener("htmx:afterSettle", resolve, {once: true});
            htmx.ajax("GET", "/dashboard/live/", {target: "#dashboard-live", swap: "outerHTML"});
        })"""
    )
    assert_charts_drawn(page)
    assert page.evaluate("() => Object.keys(window.Chart.instances).length") == 4

    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    assert_charts_drawn(page)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375
    screenshot("dashboard-mobile")
    page.set_viewport_size({"width": 1280, "height": 900})

    # The partner list, sorted by overlap score with the header link.
    page.get_by_role("link", name="See all partners").click()
    page.get_by_role("link", name="Score", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert re.search(r"[?&]sort=-score", page.url)
    assert partner_list_names(page) == ["Northwind Resellers", "Southpaw Agency"]
    header = page.locator("th[aria-sort]")
    assert header.get_attribute("aria-sort") == "descending"
    screenshot("partner-list")

    # Activate v2 through the ICP pages. The rescore runs, and its progress page shows it.
    page.goto(f"{live_server.url}/icp/")
    page.get_by_role("link", name=f"v{v2.number}", exact=True).click()
    page.get_by_role("link", name="Activate…").click()
    page.get_by_role("button", name=f"Activate v{v2.number}").click()
    page.wait_for_load_state("networkidle")
    assert "/jobs/" in page.url
    progress = page.locator("progress.job-bar")
    assert progress.get_attribute("value") == "100"
    assert page.get_by_text("Succeeded").first.is_visible()
    screenshot("icp-activation-progress")

    after = overlap_scores(tenant)
    assert after["Southpaw Agency"] > after["Northwind Resellers"]

    page.goto(f"{live_server.url}/")
    assert_charts_drawn(page)
    assert leaderboard(page) == [
        ("Northwind Resellers", str(after["Northwind Resellers"])),
        ("Southpaw Agency", str(after["Southpaw Agency"])),
    ]
    screenshot("dashboard-after-activation")

    page.goto(f"{live_server.url}/partners/?sort=-score")
    assert partner_list_names(page) == ["Southpaw Agency", "Northwind Resellers"]
    screenshot("partner-list-after-activation")
