"""Delivered results of partners on hand-built deals and ledger entries, Decimal exact."""

import datetime
from decimal import Decimal

import pytest

from commissions.models import LedgerEntry
from crm.models import Deal
from partners.models import PartnerScore
from partners.quality import partner_quality
from partners.services import partner_scores_refresh
from tests.factories import AccountFactory, DealFactory, PartnerFactory

JAN_1 = datetime.date(2024, 1, 1)


def won(tenant, partner, account, amount: str, tier: str, close_date=JAN_1):
    return DealFactory(
        tenant=tenant,
        partner=partner,
        account=account,
        stage=Deal.Stage.WON,
        amount=Decimal(amount),
        won_fit_tier=tier,
        close_date=close_date,
    )


def ledger(tenant, partner, amount: str, status=LedgerEntry.Status.PENDING, key="") -> None:
    LedgerEntry.objects.create(
        tenant=tenant,
        partner=partner,
        idempotency_key=key or f"test:{partner.pk}:{amount}:{status}",
        base_amount=Decimal("0.00"),
        rate=Decimal("0.1000"),
        multiplier=Decimal("1.00"),
        amount=Decimal(amount),
        currency="USD",
        status=status,
    )


@pytest.fixture
def results(scoped):
    """A partner with six won deals on five customers, two lost, an open deal and a ledger."""
    partner = PartnerFactory(tenant=scoped, name="Quality")
    other = PartnerFactory(tenant=scoped, name="Other")
    loyal = AccountFactory(tenant=scoped)
    # Churned 73 days after the close: 73 / 365 = 0.2 of the amount.
    short = AccountFactory(tenant=scoped, churned_on=datetime.date(2024, 3, 14))
    # Churned before the close: the days clip at 0.
    churned_early = AccountFactory(tenant=scoped, churned_on=datetime.date(2023, 12, 1))
    # Churned, and the won deal has no close date: worth 0.
    undated = AccountFactory(tenant=scoped, churned_on=datetime.date(2024, 2, 1))
    # Churned more than 365 days after the close: worth the whole amount.
    long_lived = AccountFactory(tenant=scoped, churned_on=datetime.date(2024, 1, 1))

    won(scoped, partner, loyal, "1000.00", "A")
    # A later deal of the same customer: its tier does not change the customer's tier.
    won(scoped, partner, loyal, "500.00", "C", close_date=datetime.date(2024, 6, 1))
    won(scoped, partner, short, "2000.00", "B")
    won(scoped, partner, churned_early, "300.00", "D")
    won(scoped, partner, undated, "700.00", "", close_date=None)
    won(scoped, partner, long_lived, "100.00", "B", close_date=datetime.date(2022, 1, 1))
    for _ in range(2):
        DealFactory(tenant=scoped, partner=partner, account=loyal, stage=Deal.Stage.LOST)
    DealFactory(tenant=scoped, partner=partner, account=loyal, stage=Deal.Stage.OPEN)
    # Credited to another partner: counts for that one only.
    won(scoped, other, loyal, "9999.00", "A")

    ledger(scoped, partner, "150.00")
    ledger(scoped, partner, "75.00", LedgerEntry.Status.APPROVED)
    ledger(scoped, partner, "999.00", LedgerEntry.Status.VOID)
    return {"partner": partner, "other": other}


def test_quality_numbers_exact(scoped, results):
    partner = results["partner"]

    quality = partner_quality(tenant_id=scoped.pk, partner_ids=[partner.pk])[partner.pk]

    assert (quality.won_deal_count, quality.lost_deal_count) == (6, 2)
    assert quality.win_rate == Decimal("0.7500")
    assert quality.won_revenue == Decimal("4600.00")
    # Tier A or B when won: 1,000 + 2,000 + 100.
    assert quality.on_profile_won_revenue == Decimal("3100.00")
    assert quality.customer_count == 5
    assert quality.customer_tiers == {"A": 1, "B": 2, "C": 0, "D": 1, "unscored": 1}
    assert quality.on_profile_customer_share == Decimal("0.6000")
    assert quality.churned_customer_count == 4
    assert quality.churn_rate == Decimal("0.8000")
    assert quality.commission_cost == Decimal("225.0000")
    # 1,000 + 500 + 2,000 × 0.2 + 0 + 0 + 100
    assert quality.lifetime_value == Decimal("2000.00")
    assert quality.commission_to_lifetime_value == Decimal("0.1125")


def test_quality_stored_by_refresh(scoped, results):
    partner_scores_refresh(tenant=scoped)

    score = PartnerScore.objects.get(partner=results["partner"])
    assert score.win_rate == Decimal("0.7500")
    assert score.on_profile_won_revenue == Decimal("3100.00")
    assert score.lifetime_value == Decimal("2000.00")
    assert score.commission_cost == Decimal("225.0000")
    assert score.customer_tiers == {"A": 1, "B": 2, "C": 0, "D": 1, "unscored": 1}
    # Eight closed deals, but 80 % churn fails good results, and no reach means no overlap.
    assert (score.segment, score.segment_basis) == ("deprioritise", "overlap_and_results")
    other = PartnerScore.objects.get(partner=results["other"])
    assert (other.segment, other.segment_basis) == ("deprioritise", "overlap_only")
    assert (other.won_deal_count, other.won_revenue) == (1, Decimal("9999.00"))


def test_no_closed_deals_gives_no_rates(scoped, results):
    quiet = PartnerFactory(tenant=scoped, name="Quiet")

    quality = partner_quality(tenant_id=scoped.pk, partner_ids=[quiet.pk])[quiet.pk]

    assert quality.win_rate is None
    assert quality.on_profile_customer_share is None
    assert quality.churn_rate is None
    assert quality.commission_to_lifetime_value is None
    assert (quality.customer_count, quality.lifetime_value) == (0, Decimal("0.00"))
    assert quality.commission_cost == Decimal("0.0000")


def test_lost_only_win_rate_zero(scoped):
    partner = PartnerFactory(tenant=scoped)
    DealFactory(tenant=scoped, partner=partner, account=None, stage=Deal.Stage.LOST)

    quality = partner_quality(tenant_id=scoped.pk, partner_ids=[partner.pk])[partner.pk]

    assert quality.win_rate == Decimal("0.0000")
    assert quality.customer_count == 0


@pytest.mark.parametrize(
    ("close_date", "churned_on", "expected"),
    [
        pytest.param(JAN_1, None, Decimal("1000.00"), id="not-churned"),
        pytest.param(JAN_1, datetime.date(2024, 1, 2), Decimal("2.74"), id="one-day-rounded"),
        pytest.param(JAN_1, datetime.date(2024, 7, 2), Decimal("501.37"), id="183-days"),
        pytest.param(JAN_1, datetime.date(2024, 12, 31), Decimal("1000.00"), id="365-days"),
        pytest.param(JAN_1, datetime.date(2023, 6, 1), Decimal("0.00"), id="churned-before"),
        pytest.param(None, datetime.date(2024, 6, 1), Decimal("0.00"), id="no-close-date"),
    ],
)
def test_lifetime_value_rule(scoped, close_date, churned_on, expected):
    partner = PartnerFactory(tenant=scoped)
    customer = AccountFactory(tenant=scoped, churned_on=churned_on)
    won(scoped, partner, customer, "1000.00", "A", close_date=close_date)

    quality = partner_quality(tenant_id=scoped.pk, partner_ids=[partner.pk])[partner.pk]

    assert quality.lifetime_value == expected
    assert quality.churned_customer_count == (0 if churned_on is None else 1)


def test_cost_without_lifetime_value_has_no_ratio(scoped):
    partner = PartnerFactory(tenant=scoped)
    customer = AccountFactory(tenant=scoped, churned_on=datetime.date(2023, 1, 1))
    won(scoped, partner, customer, "1000.00", "A")
    ledger(scoped, partner, "150.00")

    quality = partner_quality(tenant_id=scoped.pk, partner_ids=[partner.pk])[partner.pk]

    assert quality.lifetime_value == Decimal("0.00")
    assert quality.commission_cost == Decimal("150.0000")
    assert quality.commission_to_lifetime_value is None


def test_quality_ignores_other_tenant(scoped, results, other_tenant):
    from tenancy.scope import tenant_scope

    with tenant_scope(other_tenant):
        stranger = AccountFactory(tenant=other_tenant)
        DealFactory(
            tenant=other_tenant,
            partner=results["partner"],
            account=stranger,
            stage=Deal.Stage.WON,
            amount=Decimal("5.00"),
        )

    partner = results["partner"]
    quality = partner_quality(tenant_id=scoped.pk, partner_ids=[partner.pk])[partner.pk]

    assert quality.won_revenue == Decimal("4600.00")
