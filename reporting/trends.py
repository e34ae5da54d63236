"""Won revenue per month, partner-sourced against direct, for the dashboard chart.

The window ends at the month of the latest close date of a won deal, not at
today, so data imported from past years still shows. It must run inside a
tenant scope.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import TruncMonth

from crm.amounts import amount_in_base
from crm.models import Deal

MONTHS_SHOWN = 12


@dataclass(frozen=True)
class MonthRevenue:
    """Won deals and revenue of one calendar month, by source, in the base currency."""

    month: datetime.date
    partner_revenue: Decimal
    partner_deals: int
    direct_revenue: Decimal
    direct_deals: int


def _month_add(month: datetime.date, months: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def monthly_won_revenue(*, months: int = MONTHS_SHOWN) -> list[MonthRevenue]:
    """Return every month from the latest won close date back `months` months, oldest first.

    The window starts at the earliest won close date instead when the data spans
    fewer months. Months without a won deal are included with zeros, so the months
    are consecutive. Won deals without a close date are left out.
    """
    won = Deal.objects.filter(stage=Deal.Stage.WON, close_date__isnull=False)
    span = won.aggregate(first=Min("close_date"), last=Max("close_date"))
    if span["last"] is None:
        return []
    last = span["last"].replace(day=1)
    start = max(_month_add(last, 1 - months), span["first"].replace(day=1))

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
    month = start
    while month <= last:
        partner = totals.get((month, Deal.Source.PARTNER), (Decimal(0), 0))
        direct = totals.get((month, Deal.Source.DIRECT), (Decimal(0), 0))
        result.append(MonthRevenue(month, partner[0], partner[1], direct[0], direct[1]))
        month = _month_add(month, 1)
    return result
