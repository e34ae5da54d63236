"""Won revenue per month: partner-sourced against direct, and one partner's by ICP tier.

The window ends at the month of the latest close date of a won deal, not at
today, so data imported from past years still shows. It must run inside a
tenant scope.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Min, QuerySet, Sum
from django.db.models.functions import TruncMonth

from crm.amounts import amount_in_base
from crm.models import Deal
from reporting.selectors import TIERS, UNSCORED

MONTHS_SHOWN = 12


@dataclass(frozen=True)
class MonthRevenue:
    """Won deals and revenue of one calendar month, by source, in the base currency."""

    month: datetime.date
    partner_revenue: Decimal
    partner_deals: int
    direct_revenue: Decimal
    direct_deals: int


@dataclass(frozen=True)
class MonthTierRevenue:
    """One partner's won deals and revenue of one calendar month, per frozen ICP tier."""

    month: datetime.date
    # Revenue per tier A to D and "unscored", in the base currency; every key is present.
    revenue: dict[str, Decimal]
    deals: int


def _month_add(month: datetime.date, months: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _window(won: QuerySet, months: int) -> tuple[datetime.date, datetime.date] | None:
    """Return the first and last month of `won` deals to show, or None without any."""
    span = won.aggregate(first=Min("close_date"), last=Max("close_date"))
    if span["last"] is None:
        return None
    last = span["last"].replace(day=1)
    return max(_month_add(last, 1 - months), span["first"].replace(day=1)), last


def _months(start: datetime.date, last: datetime.date):
    month = start
    while month <= last:
        yield month
        month = _month_add(month, 1)


def monthly_won_revenue(*, months: int = MONTHS_SHOWN) -> list[MonthRevenue]:
    """Return every month from the latest won close date back `months` months, oldest first.

    The window starts at the earliest won close date instead when the data spans
    fewer months. Months without a won deal are included with zeros, so the months
    are consecutive. Won deals without a close date are left out.
    """
    won = Deal.objects.filter(stage=Deal.Stage.WON, close_date__isnull=False)
    window = _window(won, months)
    if window is None:
        return []
    start, last = window

    totals: dict[tuple[datetime.date, str], tuple[Decimal, int]] = {}
    rows = (
        won.filter(close_date__gte=start)
        .annotate(month=TruncMonth("close_date"))
        .values("month", "source")
        .annotate(revenue=Sum(amount_in_base()), deals=Count("id"))
    )
    for row in rows:
        totals[(row["month"], row["source"])] = (row["revenue"] or Decimal(0), row["deals"])

    result = []
    for month in _months(start, last):
        partner = totals.get((month, Deal.Source.PARTNER), (Decimal(0), 0))
        direct = totals.get((month, Deal.Source.DIRECT), (Decimal(0), 0))
        result.append(MonthRevenue(month, partner[0], partner[1], direct[0], direct[1]))
    return result


def partner_monthly_won_revenue(
    *, partner_id: int, months: int = MONTHS_SHOWN
) -> list[MonthTierRevenue]:
    """Return a partner's won revenue per month and frozen tier, oldest month first.

    The window is that of `monthly_won_revenue`, taken from this partner's won deals
    only. A deal won before any ICP version scored it counts as unscored.
    """
    won = Deal.objects.filter(stage=Deal.Stage.WON, close_date__isnull=False, partner_id=partner_id)
    window = _window(won, months)
    if window is None:
        return []
    start, last = window

    revenue: dict[datetime.date, dict[str, Decimal]] = {}
    deals: dict[datetime.date, int] = {}
    rows = (
        won.filter(close_date__gte=start)
        .annotate(month=TruncMonth("close_date"))
        .values("month", "won_fit_tier")
        .annotate(revenue=Sum(amount_in_base()), deals=Count("id"))
    )
    for row in rows:
        tier = row["won_fit_tier"] if row["won_fit_tier"] in TIERS else UNSCORED
        by_tier = revenue.setdefault(row["month"], {})
        by_tier[tier] = by_tier.get(tier, Decimal(0)) + (row["revenue"] or Decimal(0))
        deals[row["month"]] = deals.get(row["month"], 0) + row["deals"]

    return [
        MonthTierRevenue(
            month,
            {tier: revenue.get(month, {}).get(tier, Decimal(0)) for tier in (*TIERS, UNSCORED)},
            deals.get(month, 0),
        )
        for month in _months(start, last)
    ]
