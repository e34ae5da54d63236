"""The partner page and the partner's portal chart its won revenue per month by tier."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from crm.models import Deal
from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory, PartnerFactory


def chart_section(page: str) -> str:
    start = page.index('data-chart="chart-partner-revenue-data"')
    return page[start : page.index("</figure>", start)]


def test_partner_page_charts_won_revenue(manager_client, program):
    page = manager_client.get(reverse("partners:partner_detail", args=[program.partner.pk]))

    chart = chart_section(page.content.decode())
    assert "Won revenue per month by ICP tier" in chart
    assert "Tier A (USD)" in chart
    assert "12,500.00" in chart
    assert 'role="img"' in chart


def test_portal_charts_own_revenue_only(login_as, program, tenant):
    with tenant_scope(tenant):
        rival = PartnerFactory(name="Rival Partner")
        DealFactory(
            account=AccountFactory(),
            partner=rival,
            source=Deal.Source.PARTNER,
            amount=Decimal("777.00"),
            close_date=program.deal.close_date,
            won_fit_tier="A",
        )
    client = login_as(Membership.Role.PARTNER, partner=program.partner)

    page = client.get(reverse("partners:portal")).content.decode()
    fragment = client.get(reverse("partners:portal_live"), headers={"HX-Request": "true"})

    assert "12,500.00" in chart_section(page)
    assert "777.00" not in chart_section(page)
    assert "12,500.00" in chart_section(fragment.content.decode())


def test_portal_chart_empty_state_links_referrals(login_as, tenant):
    from tenancy.scope import tenant_scope
    from tests.factories import PartnerFactory

    with tenant_scope(tenant):
        partner = PartnerFactory(name="New Partner")
    client = login_as(Membership.Role.PARTNER, partner=partner)

    page = client.get(reverse("partners:portal")).content.decode()

    chart = chart_section(page)
    assert "No won deals yet" in chart
    assert reverse("attribution:portal_referrals") in chart
    assert "<canvas" not in chart
