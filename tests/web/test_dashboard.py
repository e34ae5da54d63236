"""Dashboard reads: leaderboard order, partner vs direct figures and headline numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from crm.models import Deal
from reporting import selectors
from reporting.services import partner_rollups_refresh
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory, PartnerFactory
from tests.web.data import ledger_entry_create


@pytest.fixture
def two_partners(scoped):
    """Partner "Volume" wins more revenue, but partner "Fit" wins more on tier A/B accounts."""
    account = AccountFactory()
    volume = PartnerFactory(name="Volume")
    fit = PartnerFactory(name="Fit")
    for tier, amount in (("C", "9000.00"), ("D", "9000.00"), ("A", "1000.00")):
        DealFactory(
            account=account,
            partner=volume,
            source=Deal.Source.PARTNER,
            won_fit_tier=tier,
            amount=Decimal(amount),
        )
    for tier in ("A", "B"):
        DealFactory(
            account=account,
            partner=fit,
            source=Deal.Source.PARTNER,
            won_fit_tier=tier,
            amount=Decimal("5000.00"),
        )
    DealFactory(account=account, partner=fit, source=Deal.Source.PARTNER, stage="lost")
    partner_rollups_refresh()
    return volume, fit


def test_leaderboard_orders_by_on_profile_revenue(two_partners):
    rows = selectors.partner_leaderboard()

    assert [row.partner.name for row in rows] == ["Fit", "Volume"]
    assert [row.rank for row in rows] == [1, 2]
    assert rows[0].on_profile_percent == 100.0
    assert rows[1].on_profile_percent == pytest.approx(5.3)


def test_leaderboard_tier_mix_is_share_of_won_deals(two_partners):
    volume_row = selectors.partner_leaderboard()[1]

    shares = {share.tier: share.percent for share in volume_row.tier_mix}

    assert shares == {"A": 33.3, "C": 33.3, "D": 33.3}


def test_source_comparison_win_rate_and_average(two_partners):
    account = AccountFactory()
    DealFactory(account=account, amount=Decimal("3000.00"), won_fit_tier="")
    DealFactory(account=account, stage="lost")
    DealFactory(account=account, stage="lost")
    DealFactory(account=account, stage="open")

    partner, direct = selectors.deal_source_comparison()

    assert (partner.source, direct.source) == ("partner", "direct")
    assert (partner.won_deals, partner.lost_deals) == (5, 1)
    assert partner.won_revenue == Decimal("29000.00")
    assert partner.win_rate_percent == pytest.approx(83.3)
    assert partner.average_won_deal == Decimal("5800.00")
    assert partner.on_profile_percent == pytest.approx(60.0)
    assert (direct.won_deals, direct.lost_deals) == (1, 2)
    assert direct.win_rate_percent == pytest.approx(33.3)
    assert [share.tier for share in direct.tier_mix] == ["unscored"]


def test_source_comparison_open_pipeline(scoped):
    on_profile = AccountFactory(fit_tier="A", fit_score=90)
    off_profile = AccountFactory(fit_tier="D", fit_score=10)
    partner = PartnerFactory()
    DealFactory(account=on_profile, stage="open", amount=Decimal("600.00"))
    DealFactory(account=off_profile, stage="open", amount=Decimal("200.00"))
    DealFactory(
        account=on_profile,
        stage="open",
        amount=Decimal("100.00"),
        currency="EUR",
        amount_base=Decimal("110.0000"),
        partner=partner,
        source="partner",
    )
    DealFactory(account=on_profile, stage="won", amount=Decimal("5000.00"))

    partner_row, direct = selectors.deal_source_comparison()

    assert direct.open_deals == 2
    assert direct.open_amount == Decimal("800.00")
    assert direct.open_on_profile_percent == pytest.approx(75.0)
    assert partner_row.open_deals == 1
    assert partner_row.open_amount == Decimal("110.0000")
    assert partner_row.open_on_profile_percent == pytest.approx(100.0)


def test_source_comparison_without_deals(scoped):
    partner, direct = selectors.deal_source_comparison()

    assert partner.win_rate_percent is None
    assert partner.average_won_deal is None
    assert direct.tier_mix == []
    assert direct.open_on_profile_percent is None


def test_headline_counts_tiers_and_ledger(scoped):
    partner = PartnerFactory()
    AccountFactory(fit_tier="A", fit_score=90)
    AccountFactory(fit_tier="A", fit_score=85)
    AccountFactory(fit_tier="C", fit_score=30)
    AccountFactory()
    ledger_entry_create(partner=partner, idempotency_key="one", amount=Decimal("100.50"))
    ledger_entry_create(partner=partner, idempotency_key="two", amount=Decimal("1000.25"))
    ledger_entry_create(
        partner=partner, idempotency_key="void", amount=Decimal("999.00"), status="void"
    )

    headline = selectors.dashboard_headline()

    assert headline.accounts_total == 4
    assert headline.accounts_scored == 3
    assert [(row.tier, row.accounts) for row in headline.tier_counts] == [
        ("A", 2),
        ("B", 0),
        ("C", 1),
        ("D", 0),
    ]
    assert headline.ledger_totals == [("USD", Decimal("1100.75"))]
    assert headline.active_icp_version is None


def test_ledger_totals_sum_across_rates(staff_client, program):
    with tenant_scope(program.tenant):
        ledger_entry_create(
            partner=program.partner,
            idempotency_key="second-rate",
            rate=Decimal("0.0750"),
            amount=Decimal("125.00"),
        )

    response = staff_client.get(reverse("commissions:ledger_list"))

    assert len(response.context["totals"]) == 1
    assert response.context["totals"][0]["amount"] == Decimal("2000.00")
    assert response.context["totals"][0]["entries"] == 2
    assert "7.50%" in response.content.decode()


@pytest.mark.parametrize(
    ("part", "whole", "label"),
    [
        pytest.param(0, 0, "0%", id="nothing-scored"),
        pytest.param(0, 5086, "0%", id="empty-tier"),
        pytest.param(1, 5086, "<0.1%", id="rounds-to-zero"),
        pytest.param(21, 5086, "0.4%", id="under-one-percent"),
        pytest.param(1, 100, "1%", id="one-percent"),
        pytest.param(1, 8, "13%", id="half-rounds-up"),
        pytest.param(1493, 5086, "29%", id="whole-percent"),
        pytest.param(199, 200, "99.5%", id="over-99-percent"),
        pytest.param(5085, 5086, ">99.9%", id="rounds-to-hundred"),
        pytest.param(7, 7, "100%", id="all"),
    ],
)
def test_percent_label(part, whole, label):
    assert selectors.percent_label(part, whole) == label


def test_headline_small_tier_share_keeps_decimal(scoped):
    AccountFactory(fit_tier="A", fit_score=95)
    AccountFactory.create_batch(199, fit_tier="D", fit_score=0)

    labels = {row.tier: row.percent_label for row in selectors.dashboard_headline().tier_counts}

    assert labels == {"A": "0.5%", "B": "0%", "C": "0%", "D": "99.5%"}


def test_dashboard_tier_card_shows_count_and_share(staff_client, tenant):
    with tenant_scope(tenant):
        AccountFactory(fit_tier="A", fit_score=95)
        AccountFactory.create_batch(199, fit_tier="D", fit_score=0)

    content = staff_client.get(reverse("reporting:dashboard")).content.decode()

    assert '<span class="tier-count-value">199</span>' in content
    assert '<span class="tier-count-share">0.5%</span>' in content
    assert '<span class="tier-count-share">99.5%</span>' in content


def test_dashboard_amounts_use_tenant_currency(staff_client, tenant):
    tenant.base_currency = "EUR"
    tenant.save(update_fields=["base_currency"])

    content = staff_client.get(reverse("reporting:dashboard")).content.decode()

    assert "Amounts in EUR." in content
    assert "USD" not in content


def test_dashboard_warns_of_failed_deals_and_missing_plan(staff_client, program):
    from commissions.models import CommissionPlan

    with tenant_scope(program.tenant):
        Deal.objects.filter(pk=program.deal.pk).update(pipeline_status="failed")
        CommissionPlan.objects.update(is_active=False)

    page = staff_client.get(reverse("reporting:dashboard")).content.decode()

    assert "1 won deal failed in the commission pipeline." in page
    assert "No commission plan is active." in page
