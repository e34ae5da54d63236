"""Won revenue per month by source: the window, empty months and the base currency."""

from __future__ import annotations

import datetime
from decimal import Decimal

from crm.models import Deal
from reporting.trends import MonthRevenue, monthly_won_revenue, partner_monthly_won_revenue
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory, PartnerFactory

PARTNER = Deal.Source.PARTNER
DIRECT = Deal.Source.DIRECT


def won(account, close_date, amount, source=DIRECT, **values):
    return DealFactory(
        account=account, close_date=close_date, amount=Decimal(amount), source=source, **values
    )


def test_months_end_at_latest_close(scoped, other_tenant):
    account = AccountFactory()
    # Outside the 12 months that end in March 2017.
    won(account, datetime.date(2016, 3, 31), "9999.00", PARTNER)
    won(account, datetime.date(2016, 4, 1), "100.00", PARTNER)
    won(account, datetime.date(2016, 4, 30), "50.00", PARTNER)
    won(account, datetime.date(2016, 4, 15), "70.00", DIRECT)
    won(
        account,
        datetime.date(2017, 3, 2),
        "200.00",
        PARTNER,
        currency="EUR",
        amount_base=Decimal("220.0000"),
    )
    DealFactory(
        account=account,
        stage=Deal.Stage.LOST,
        close_date=datetime.date(2017, 3, 3),
        amount=Decimal("5000.00"),
    )
    # Won without a close date: not placed in any month.
    won(account, None, "3000.00", PARTNER)
    with tenant_scope(other_tenant):
        won(AccountFactory(), datetime.date(2018, 1, 1), "1.00")

    months = monthly_won_revenue()

    assert [month.month for month in months] == [
        datetime.date(2016, month, 1) for month in range(4, 13)
    ] + [datetime.date(2017, month, 1) for month in range(1, 4)]
    assert months[0] == MonthRevenue(
        datetime.date(2016, 4, 1), Decimal("150.00"), 2, Decimal("70.00"), 1
    )
    assert months[1] == MonthRevenue(datetime.date(2016, 5, 1), Decimal(0), 0, Decimal(0), 0)
    assert months[-1] == MonthRevenue(
        datetime.date(2017, 3, 1), Decimal("220.0000"), 1, Decimal(0), 0
    )


def test_short_span_starts_at_first_close(scoped):
    account = AccountFactory()
    won(account, datetime.date(2016, 11, 20), "10.00")
    won(account, datetime.date(2017, 1, 5), "20.00", PARTNER)

    months = monthly_won_revenue()

    assert [month.month for month in months] == [
        datetime.date(2016, 11, 1),
        datetime.date(2016, 12, 1),
        datetime.date(2017, 1, 1),
    ]
    assert months[0].direct_revenue == Decimal("10.00")
    assert months[2].partner_revenue == Decimal("20.00")


def test_no_won_deals_no_months(scoped):
    DealFactory(account=AccountFactory(), stage=Deal.Stage.LOST)

    assert monthly_won_revenue() == []


def test_partner_months_split_by_frozen_tier(scoped):
    partner, other = PartnerFactory(), PartnerFactory()
    account = AccountFactory()
    won(account, datetime.date(2017, 1, 10), "100.00", PARTNER, partner=partner, won_fit_tier="A")
    won(account, datetime.date(2017, 1, 20), "40.00", PARTNER, partner=partner, won_fit_tier="A")
    won(account, datetime.date(2017, 3, 5), "60.00", PARTNER, partner=partner, won_fit_tier="")
    won(
        account,
        datetime.date(2017, 3, 6),
        "10.00",
        PARTNER,
        partner=partner,
        won_fit_tier="C",
        currency="EUR",
        amount_base=Decimal("11.0000"),
    )
    # Another partner's deal, later than every deal of `partner`, moves nothing.
    won(account, datetime.date(2017, 9, 1), "500.00", PARTNER, partner=other, won_fit_tier="B")

    months = partner_monthly_won_revenue(partner_id=partner.pk)

    assert [month.month for month in months] == [datetime.date(2017, m, 1) for m in (1, 2, 3)]
    assert months[0].revenue == {
        "A": Decimal("140.00"),
        "B": Decimal(0),
        "C": Decimal(0),
        "D": Decimal(0),
        "unscored": Decimal(0),
    }
    assert months[0].deals == 2
    assert months[1].deals == 0
    assert months[2].revenue["unscored"] == Decimal("60.00")
    assert months[2].revenue["C"] == Decimal("11.0000")
    assert months[2].deals == 2


def test_partner_without_wins_has_no_months(scoped):
    assert partner_monthly_won_revenue(partner_id=PartnerFactory().pk) == []
