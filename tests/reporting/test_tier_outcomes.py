"""Win rate and churn rate per ICP tier."""

from __future__ import annotations

import datetime
from decimal import Decimal

from commissions.models import RevenueEvent
from crm.models import Deal
from reporting.tier_outcomes import TierOutcome, tier_outcomes
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory

WON = Deal.Stage.WON
LOST = Deal.Stage.LOST


def test_rates_per_tier(scoped, other_tenant):
    # Customer 1 is tier A at its first win (2016) and has a churn date. Its later win
    # was frozen at B, so it counts as a B win but not as a B customer.
    first = AccountFactory(fit_tier="B", churned_on=datetime.date(2017, 5, 1))
    DealFactory(account=first, won_fit_tier="A", close_date=datetime.date(2016, 1, 1))
    DealFactory(account=first, won_fit_tier="B", close_date=datetime.date(2017, 1, 1))
    # Customer 2 is tier A and churned through a churn revenue event.
    second = AccountFactory(fit_tier="A")
    DealFactory(account=second, won_fit_tier="A")
    RevenueEvent.objects.create(
        external_id="churn-2",
        kind=RevenueEvent.Kind.CHURN,
        account=second,
        occurred_on=datetime.date(2017, 9, 1),
    )
    # Customer 3 is tier A and still a customer.
    DealFactory(account=AccountFactory(fit_tier="A"), won_fit_tier="A")
    # Lost deals count in the account's current tier: two A, one C, one unscored.
    prospect_a = AccountFactory(fit_tier="A")
    DealFactory(account=prospect_a, stage=LOST)
    DealFactory(account=prospect_a, stage=LOST)
    DealFactory(account=AccountFactory(fit_tier="C"), stage=LOST)
    DealFactory(account=AccountFactory(fit_tier=""), stage=LOST)
    # Open deals count nowhere.
    DealFactory(account=AccountFactory(fit_tier="D"), stage=Deal.Stage.OPEN)
    with tenant_scope(other_tenant):
        DealFactory(account=AccountFactory(fit_tier="D"), won_fit_tier="D", amount=Decimal(1))

    result = tier_outcomes()

    assert result == [
        TierOutcome("A", won_deals=3, lost_deals=2, customers=3, churned_customers=2),
        TierOutcome("B", won_deals=1, lost_deals=0, customers=0, churned_customers=0),
        TierOutcome("C", won_deals=0, lost_deals=1, customers=0, churned_customers=0),
        TierOutcome("D", won_deals=0, lost_deals=0, customers=0, churned_customers=0),
        TierOutcome("unscored", won_deals=0, lost_deals=1, customers=0, churned_customers=0),
    ]
    # 3 / (3 + 2) and 2 / 3
    assert result[0].win_rate_percent == Decimal("60.0")
    assert result[0].churn_rate_percent == Decimal("66.7")
    assert result[1].win_rate_percent == Decimal("100.0")
    assert result[1].churn_rate_percent is None
    assert result[2].win_rate_percent == Decimal("0.0")
    assert result[3].win_rate_percent is None


def test_first_win_without_close_date_sorts_last(scoped):
    account = AccountFactory()
    DealFactory(account=account, won_fit_tier="D", close_date=None)
    DealFactory(account=account, won_fit_tier="C", close_date=datetime.date(2017, 2, 1))

    by_tier = {row.tier: row for row in tier_outcomes()}

    assert by_tier["C"].customers == 1
    assert by_tier["D"].customers == 0
    assert by_tier["D"].won_deals == 1
    assert "unscored" not in by_tier


def test_won_without_frozen_tier_uses_current(scoped):
    # Won before any ICP version scored the account, so nothing was frozen.
    account = AccountFactory(fit_tier="C", churned_on=datetime.date(2017, 3, 1))
    DealFactory(account=account, won_fit_tier="")
    DealFactory(account=AccountFactory(fit_tier=""), won_fit_tier="")

    by_tier = {row.tier: row for row in tier_outcomes()}

    assert by_tier["C"] == TierOutcome("C", 1, 0, 1, 1)
    assert by_tier["unscored"] == TierOutcome("unscored", 1, 0, 1, 0)
