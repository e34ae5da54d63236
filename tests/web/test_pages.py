"""Every page renders for staff with data present, and shows that data."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.views import compact_amount
from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory, MembershipFactory, ReachEntryFactory
from tests.web.data import icp_version_create, ledger_entry_create
from tests.web.pages import LIST_PAGES, STAFF_PAGE_NAMES, staff_pages


@pytest.mark.parametrize("page", STAFF_PAGE_NAMES)
def test_staff_page_renders(staff_client, program, page):
    response = staff_client.get(staff_pages(program)[page])

    assert response.status_code == 200
    assert b"Track360" in response.content


@pytest.mark.parametrize("page", list(LIST_PAGES))
def test_list_page_renders_empty_tenant(staff_client, tenant, page):
    response = staff_client.get(reverse(LIST_PAGES[page]))

    assert response.status_code == 200


def test_dashboard_shows_leaderboard_and_comparison(staff_client, program):
    response = staff_client.get(reverse("reporting:dashboard"))
    content = response.content.decode()

    assert "Acme Referrals" in content
    assert "generated demo data" in content
    assert "12,500.00" in content
    assert "1,875.00" in content
    assert "Partner-sourced vs direct" in content
    # One direct deal won and one lost.
    assert "50.0%" in content


def test_account_list_search_and_tier_filter(staff_client, program):
    url = reverse("crm:account_list")

    by_name = staff_client.get(url, {"q": "initech"}).content.decode()
    tier_c = staff_client.get(url, {"tier": "C"}).content.decode()

    assert "Acme Initech" in by_name
    assert "Acme Umbrella" not in by_name
    assert "Acme Umbrella" in tier_c
    assert "Acme Initech" not in tier_c


def test_account_list_unscored_filter(staff_client, program):
    with tenant_scope(program.tenant):
        AccountFactory(name="Unscored Corp")

    content = staff_client.get(reverse("crm:account_list"), {"tier": "none"}).content.decode()

    assert "Unscored Corp" in content
    assert "Acme Initech" not in content


def test_account_list_paginates(staff_client, tenant):
    with tenant_scope(tenant):
        AccountFactory.create_batch(30)

    first = staff_client.get(reverse("crm:account_list"), {"q": "Company"})
    second = staff_client.get(reverse("crm:account_list"), {"q": "Company", "page": 2})

    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 5
    assert "Page 1 of 2" in first.content.decode()
    assert 'href="?q=Company&amp;page=2"' in first.content.decode()


def test_account_list_empty_state(staff_client, tenant):
    content = staff_client.get(reverse("crm:account_list")).content.decode()

    assert "No accounts yet: import a CSV" in content


def test_account_detail_shows_fit_breakdown(staff_client, program):
    url = reverse("crm:account_detail", args=[program.account.pk])

    response = staff_client.get(url)
    content = response.content.decode()

    assert response.context["fit"]["score"] == 100
    assert response.context["fit"]["tier"] == "A"
    assert "Industry: software" in content
    assert "Employees 200 or more" in content
    assert "Acme-deal-partner" in content


def test_account_detail_without_icp_version(staff_client, tenant):
    with tenant_scope(tenant):
        account = AccountFactory(name="Lonely Co")

    response = staff_client.get(reverse("crm:account_detail", args=[account.pk]))

    assert response.status_code == 200
    assert "no ICP version is active" in response.content.decode()


def test_partner_detail_shows_reach_ledger_rollup(staff_client, program):
    response = staff_client.get(reverse("partners:partner_detail", args=[program.partner.pk]))
    content = response.content.decode()

    assert "generated demo data" in content
    assert "Acme Initech" in content
    assert "acme-unmatched.com" in content
    assert "1,875.00" in content
    assert "12,500.00" in content
    assert response.context["partner"].rollup_won_deals == 1


def test_partner_list_shows_overlap_parts(staff_client, program):
    response = staff_client.get(reverse("partners:partner_list"))
    content = response.content.decode()

    assert "Acme Referrals" in content
    assert "<strong>73</strong>" in content
    assert "100%" in content
    assert "50%" in content


def test_ledger_filters_by_status(staff_client, program):
    url = reverse("commissions:ledger_list")

    pending = staff_client.get(url, {"status": "pending"})
    paid = staff_client.get(url, {"status": "paid"})

    assert len(pending.context["page"].object_list) == 1
    assert len(paid.context["page"].object_list) == 0
    assert "No entries match these filters" in paid.content.decode()


def test_ledger_filters_by_partner(staff_client, program):
    url = reverse("commissions:ledger_list")

    response = staff_client.get(url, {"partner": program.partner.pk})

    assert [entry.pk for entry in response.context["page"].object_list] == [program.entry.pk]
    assert "10.00%" in response.content.decode()
    assert "×1.50" in response.content.decode()


def test_import_detail_lists_errors(staff_client, program):
    response = staff_client.get(reverse("crm:import_detail", args=[program.run.pk]))
    content = response.content.decode()

    assert "Expected a whole number." in content
    assert "many" in content


def account_names(response) -> list[str]:
    return [account.name for account in response.context["page"].object_list]


def test_account_list_orders_by_name_and_fit_score(staff_client, program):
    url = reverse("crm:account_list")

    default = staff_client.get(url)
    by_name = staff_client.get(url, {"ordering": "name"})
    by_name_reversed = staff_client.get(url, {"ordering": "-name"})
    lowest_fit_first = staff_client.get(url, {"ordering": "fit_score"})

    assert account_names(default) == ["Acme Initech", "Acme Umbrella"]
    assert account_names(by_name) == ["Acme Initech", "Acme Umbrella"]
    assert account_names(by_name_reversed) == ["Acme Umbrella", "Acme Initech"]
    assert account_names(lowest_fit_first) == ["Acme Umbrella", "Acme Initech"]


def test_account_list_sort_links_reverse_current_order(staff_client, program):
    content = staff_client.get(reverse("crm:account_list"), {"ordering": "name"}).content.decode()

    assert '<th aria-sort="ascending"><a class="sort" href="?ordering=-name">Name' in content
    assert 'href="?ordering=-fit_score">Fit score</a>' in content


def test_account_list_unknown_ordering_shows_error(staff_client, program):
    response = staff_client.get(reverse("crm:account_list"), {"ordering": "domain"})

    assert response.status_code == 400
    assert account_names(response) == ["Acme Initech", "Acme Umbrella"]
    assert "Sort: Select a valid choice. domain is not one of" in response.content.decode()
    assert "ordering: " not in response.content.decode()


def test_account_list_shows_count_and_currency(staff_client, program):
    program.tenant.base_currency = "EUR"
    program.tenant.save(update_fields=["base_currency"])

    content = staff_client.get(reverse("crm:account_list")).content.decode()
    filtered = staff_client.get(reverse("crm:account_list"), {"q": "initech"}).content.decode()

    assert '<p class="result-count">2 accounts</p>' in content
    assert '<p class="result-count">1 account matches these filters</p>' in filtered
    assert "Annual revenue (EUR)" in content
    assert '<span title="50,000,000 EUR">50M</span>' in content


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("11698030000.00", "11.7B"),
        ("4618000000.00", "4.62B"),
        ("999950000.00", "1B"),
        ("540000000.00", "540M"),
        ("12500.00", "12.5K"),
        ("950.40", "950"),
        ("0.00", "0"),
    ],
)
def test_compact_amount(amount, text):
    assert compact_amount(Decimal(amount)) == text


def test_account_detail_formats_values_per_field(staff_client, tenant):
    criteria = [
        {
            "key": "revenue",
            "field": "annual_revenue",
            "kind": "range",
            "min": 1.2e9,
            "max": None,
            "weight": 40,
        },
        {
            "key": "employees",
            "field": "employees",
            "kind": "range",
            "min": 2800,
            "max": None,
            "weight": 30,
        },
        {
            "key": "founded",
            "field": "year_established",
            "kind": "range",
            "min": None,
            "max": 1989,
            "weight": 20,
        },
        {
            "key": "industry",
            "field": "industry",
            "kind": "category",
            "values": ["software"],
            "weight": 10,
        },
    ]
    with tenant_scope(tenant):
        version = icp_version_create(name="Learned from 6,711 closed deals", criteria=criteria)
        account = AccountFactory(
            annual_revenue=Decimal("4618000000.00"), employees=10083, year_established=1982
        )

    content = staff_client.get(reverse("crm:account_detail", args=[account.pk])).content.decode()

    assert "<dd>4,618,000,000 USD</dd>" in content
    assert "<dd>1982</dd>" in content
    assert "<td>4,618,000,000 USD</td>" in content
    assert "<td>10,083</td>" in content
    assert "<td>1982</td>" in content
    assert "<td>software</td>" in content
    assert f">ICP v{version.number} · Learned from 6,711 closed deals</a>" in content


def test_partner_list_badge_and_currency(staff_client, program):
    content = staff_client.get(reverse("partners:partner_list")).content.decode()

    assert 'class="badge badge-generated"' in content
    assert "Revenue and commission in USD." in content
    assert '<th colspan="5" class="group">ICP overlap</th>' in content


def test_partner_detail_reach_sorted_by_tier_then_name(staff_client, program):
    with tenant_scope(program.tenant):
        for name, tier, score in (("Zeta", "A", 90), ("Alpha", "C", 30), ("Beta", "A", 85)):
            account = AccountFactory(name=name, fit_tier=tier, fit_score=score)
            ReachEntryFactory(partner=program.partner, domain=account.domain, account=account)
        unscored = AccountFactory(name="Aardvark")
        ReachEntryFactory(partner=program.partner, domain=unscored.domain, account=unscored)
        ReachEntryFactory(partner=program.partner, domain="aaa-unmatched.com")

    response = staff_client.get(reverse("partners:partner_detail", args=[program.partner.pk]))
    rows = [
        (
            entry.account.name if entry.account else entry.domain,
            entry.account and entry.account.fit_score,
        )
        for entry in response.context["reach_page"].object_list
    ]

    assert rows == [
        ("Acme Initech", 100),
        ("Beta", 85),
        ("Zeta", 90),
        ("Alpha", 30),
        ("Aardvark", None),
        ("aaa-unmatched.com", None),
        ("acme-unmatched.com", None),
    ]
    assert '<td class="num">85</td>' in response.content.decode()


def test_ledger_dates_and_account_link(staff_client, program):
    content = staff_client.get(reverse("commissions:ledger_list")).content.decode()
    account_url = reverse("crm:account_detail", args=[program.account.pk])
    booked = program.entry.created_at.strftime("%Y-%m-%d")

    assert '<th class="nowrap">Deal closed</th>' in content
    assert '<th class="secondary">Booked</th>' in content
    assert '<td class="nowrap">2017-06-01</td>' in content
    assert f'<td class="nowrap secondary">{booked}</td>' in content
    assert f'<a href="{account_url}">Acme-deal-partner</a> · Acme Initech' in content


def test_ledger_orders_by_deal_close_date(staff_client, program):
    with tenant_scope(program.tenant):
        later_deal = DealFactory(
            account=program.account, partner=program.partner, close_date=datetime.date(2017, 9, 1)
        )
        later = ledger_entry_create(partner=program.partner, deal=later_deal)
        earlier_deal = DealFactory(
            account=program.account, partner=program.partner, close_date=datetime.date(2017, 1, 1)
        )
        earlier = ledger_entry_create(partner=program.partner, deal=earlier_deal)

    response = staff_client.get(reverse("commissions:ledger_list"))
    entries = [entry.pk for entry in response.context["page"].object_list]

    assert entries == [later.pk, program.entry.pk, earlier.pk]


def test_ledger_mutes_zero_amount_rows(staff_client, program):
    with tenant_scope(program.tenant):
        deal = DealFactory(account=program.account, partner=program.partner)
        ledger_entry_create(
            partner=program.partner,
            deal=deal,
            multiplier=Decimal("0.00"),
            fit_tier="D",
            fit_score=0,
            amount=Decimal("0.00"),
        )

    response = staff_client.get(reverse("commissions:ledger_list"))
    content = response.content.decode()

    assert len(response.context["page"].object_list) == 2
    assert content.count('<tr class="row-muted">') == 1


def test_portal_ledger_does_not_link_accounts(partner_client, program):
    content = partner_client.get(reverse("partners:portal")).content.decode()
    account_url = reverse("crm:account_detail", args=[program.account.pk])

    assert "Acme-deal-partner · Acme Initech" in content
    assert account_url not in content


def test_not_found_for_visitor_omits_tenant_switcher(client, db):
    response = client.get("/no-such-page/")
    content = response.content.decode()

    assert response.status_code == 404
    assert "switch tenant" not in content
    assert f'<a href="{reverse("login")}">Log in</a>' in content


def test_not_found_for_member_of_one_tenant(staff_client, tenant):
    response = staff_client.get(reverse("crm:account_detail", args=[999999]))
    content = response.content.decode()

    assert response.status_code == 404
    assert "This page does not exist in Acme Analytics." in content
    assert "switch tenant" not in content


def test_not_found_for_member_of_two_tenants(staff_client, admin_user, other_tenant):
    MembershipFactory(tenant=other_tenant, user=admin_user, role=Membership.Role.ANALYST)

    response = staff_client.get(reverse("crm:account_detail", args=[999999]))

    assert response.status_code == 404
    assert "switch tenant at the top right" in response.content.decode()


def test_account_detail_explains_knockout_and_missing_data(staff_client, tenant):
    criteria = [
        {"key": "size", "field": "employees", "kind": "range", "min": 100, "weight": 30},
        {"key": "stack", "field": "tech_stack", "kind": "tech_stack", "values": ["Snowflake"]},
        {"key": "pay", "field": "budget", "kind": "willingness_to_pay", "min": 5000},
        {"key": "ko", "field": "industry", "kind": "category", "values": ["gambling"]},
    ]
    criteria[1].update(match="any", weight=20)
    criteria[2]["weight"] = 10
    criteria[3].update(knockout=True, weight=0)
    with tenant_scope(tenant):
        icp_version_create(name="Hand-written", criteria=criteria)
        account = AccountFactory(industry="Gambling", employees=500, tech_stack=["Snowflake"])

    response = staff_client.get(reverse("crm:account_detail", args=[account.pk]))
    content = response.content.decode()

    assert response.context["fit"]["score"] == 0
    assert response.context["fit"]["knocked_out_by"] == ["ko"]
    assert "Knocked out" in content
    assert "✗ knocked out" in content
    assert "<td>Snowflake</td>" in content
    assert "Missing data: Budget $5K or more." in content
    assert "✓ +30, void: knocked out" in content
    assert "0, because a knock-out matched" in content


def test_account_list_bad_tier_is_400(manager_client, program):
    response = manager_client.get("/accounts/", {"tier": "Z"})

    assert response.status_code == 400
