"""Overview numbers of the dashboard: fit of won revenue by source, and pending commissions.

Every function reads the active tenant's rows through the scoped managers, so it
must run inside a tenant scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Q, Sum

from commissions.models import LedgerEntry
from crm.amounts import amount_in_base
from crm.models import Deal

ON_PROFILE_TIERS = ("A", "B")
# Ledger statuses whose commission is owed but not approved for payout yet.
PENDING_STATUSES = (LedgerEntry.Status.PENDING, LedgerEntry.Status.HELD)
_ONE_PLACE = Decimal("0.1")


@dataclass(frozen=True)
class FitOverview:
    """ICP fit of partner-sourced wins, with direct wins for comparison.

    Tiers and scores are the ones frozen on each deal when it was won. Revenue is
    in the base currency.
    """

    partner_revenue: Decimal
    on_profile_revenue: Decimal
    # Share of partner-sourced won revenue on tier A or B, from 0 to 100, one place.
    on_profile_percent: Decimal | None
    # Mean won-time fit score (0-100), one place, of the wins that have a score.
    partner_average_fit: Decimal | None
    partner_scored_wins: int
    direct_average_fit: Decimal | None
    direct_scored_wins: int


@dataclass(frozen=True)
class PendingCommission:
    """Commission owed in one currency that is pending or held for review."""

    currency: str
    pending: Decimal
    held: Decimal
    entries: int

    @property
    def total(self) -> Decimal:
        return self.pending + self.held


def _one_place(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(_ONE_PLACE, ROUND_HALF_UP)


def fit_overview() -> FitOverview:
    """Return the on-profile share and average fit of partner-sourced and direct wins."""
    amount = amount_in_base()
    partner = Q(source=Deal.Source.PARTNER)
    direct = Q(source=Deal.Source.DIRECT)
    scored = Q(won_fit_score__isnull=False)
    # One pass over the won deals computes both sources' figures.
    totals = Deal.objects.filter(stage=Deal.Stage.WON).aggregate(
        revenue=Sum(amount, filter=partner),
        on_profile=Sum(amount, filter=partner & Q(won_fit_tier__in=ON_PROFILE_TIERS)),
        average_fit=Avg("won_fit_score", filter=partner),
        scored=Count("id", filter=partner & scored),
        direct_average_fit=Avg("won_fit_score", filter=direct),
        direct_scored=Count("id", filter=direct & scored),
    )

    revenue = totals["revenue"] or Decimal(0)
    on_profile = totals["on_profile"] or Decimal(0)
    percent = _one_place(on_profile * 100 / revenue) if revenue else None
    return FitOverview(
        partner_revenue=revenue,
        on_profile_revenue=on_profile,
        on_profile_percent=percent,
        partner_average_fit=_one_place(totals["average_fit"]),
        partner_scored_wins=totals["scored"],
        direct_average_fit=_one_place(totals["direct_average_fit"]),
        direct_scored_wins=totals["direct_scored"],
    )


def pending_commissions() -> list[PendingCommission]:
    """Return the pending and held ledger amounts per currency, in currency order.

    Reversals are entries with negative amounts, so a pending reversal lowers the sum.
    """
    rows = (
        LedgerEntry.objects.filter(status__in=PENDING_STATUSES)
        .values("currency")
        .annotate(
            pending=Sum("amount", filter=Q(status=LedgerEntry.Status.PENDING)),
            held=Sum("amount", filter=Q(status=LedgerEntry.Status.HELD)),
            entries=Count("id"),
        )
        .order_by("currency")
    )
    return [
        PendingCommission(
            currency=row["currency"],
            pending=row["pending"] or Decimal(0),
            held=row["held"] or Decimal(0),
            entries=row["entries"],
        )
        for row in rows
    ]
