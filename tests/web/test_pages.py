"""Every page renders for staff with data present, and shows that data."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tenancy.scope import tenant_scope
from tests.factories import AccountFactory
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
