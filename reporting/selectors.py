"""Reads for the dashboard: partner leaderboard, partner vs direct deals, headline numbers.

Every function reads the active tenant's rows through the scoped managers, so it
must run inside a tenant scope (the web middleware provides one per request).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate

from commissions.models import LedgerEntry
from commissions.selectors import commission_plan_active, ledger_entry_list
from crm.amounts import amount_in_base
from crm.models import Account, Deal
from icp.models import IcpVersion
from icp.selectors import icp_version_active
from partners import selectors as partner_selectors
from partners.models import Partner
from tenancy.scope import current_tenant_id

TIERS = ("A", "B", "C", "D")
# Won deals whose account had no tier when the deal was won.
UNSCORED = "unscored"
ON_PROFILE_TIERS = ("A", "B")
LEADERBOARD_SIZE = 10


def percent_label(part: int, whole: int) -> str:
    """Format `part` as a share of `whole` for display, such as "29%", "0.4%" or "<0.1%".

    Shares between 0% and 1%, or between 99% and 100%, keep one decimal, so that a
    small tier does not read as 0% and a large one as 100%. Halves round up.
    """
    if not part or not whole:
        return "0%"
    if part == whole:
        return "100%"
    exact = Decimal(part) * 100 / Decimal(whole)
    if exact < Decimal("0.1"):
        return "<0.1%"
    if exact > Decimal("99.9"):
        return ">99.9%"
    step = Decimal("0.1") if exact < 1 or exact > 99 else Decimal(1)
    return f"{exact.quantize(step, rounding=ROUND_HALF_UP)}%"


@dataclass(frozen=True)
class TierShare:
    """One ICP tier's part of a set of won deals."""

    tier: str
    deals: int
    revenue: Decimal
    # Share of the won deals, from 0 to 100.
    percent: float
    # Won deals of all tiers together.
    total_deals: int

    @property
    def percent_label(self) -> str:
        return percent_label(self.deals, self.total_deals)


@dataclass(frozen=True)
class LeaderboardRow:
    """A partner, annotated by `partners.selectors.partner_list`, with its tier mix."""

    rank: int
    partner: Partner
    tier_mix: list[TierShare]
    # Share of won revenue on tier A or B accounts, from 0 to 100, or None without revenue.
    on_profile_percent: float | None


@dataclass(frozen=True)
class SourceSummary:
    """Won and lost deals of one source (partner or direct), with their tier mix."""

    source: str
    label: str
    won_deals: int
    lost_deals: int
    won_revenue: Decimal
    # won / (won + lost), from 0 to 100, or None when no deal is closed yet.
    win_rate_percent: float | None
    average_won_deal: Decimal | None
    tier_mix: list[TierShare] = field(default_factory=list)
    # Open deals and their amount; open deals have no frozen tier, so the on-profile
    # part uses the account's current tier.
    open_deals: int = 0
    open_amount: Decimal = Decimal(0)
    open_on_profile_amount: Decimal = Decimal(0)

    @property
    def open_on_profile_percent(self) -> float | None:
        return _percent(self.open_on_profile_amount, self.open_amount)

    @property
    def on_profile_percent(self) -> float | None:
        if not self.won_deals:
            return None
        return sum(share.percent for share in self.tier_mix if share.tier in ON_PROFILE_TIERS)


@dataclass(frozen=True)
class TierCount:
    """How many scored accounts one ICP tier contains."""

    tier: str
    accounts: int
    # Share of the scored accounts, from 0 to 100.
    percent: float
    # Scored accounts of all tiers together.
    scored: int

    @property
    def percent_label(self) -> str:
        return percent_label(self.accounts, self.scored)


@dataclass(frozen=True)
class Headline:
    """The numbers at the top of the dashboard."""

    accounts_total: int
    accounts_scored: int
    tier_counts: list[TierCount]
    partners_total: int
    active_icp_version: IcpVersion | None
    # Sum of non-void ledger entries per currency: [(currency, amount), ...].
    ledger_totals: list[tuple[str, Decimal]]
    # Won deals the pipeline could not process, and whether commissions have a plan.
    deals_failed: int = 0
    plan_active: bool = True


def _percent(part: int | Decimal, whole: int | Decimal) -> float | None:
    if not whole:
        return None
    return round(float(part) * 100 / float(whole), 1)


def tier_shares(counts: dict[str, tuple[int, Decimal]]) -> list[TierShare]:
    """Turn `{tier: (deals, revenue)}` into shares of deals for A to D, then unscored.

    Blank tiers count as unscored. Tiers without deals are left out, so the shares of
    the returned rows add up to 100 (give or take rounding).
    """
    merged: dict[str, tuple[int, Decimal]] = {}
    for tier, (deals, revenue) in counts.items():
        key = tier if tier in TIERS else UNSCORED
        previous_deals, previous_revenue = merged.get(key, (0, Decimal(0)))
        merged[key] = (previous_deals + deals, previous_revenue + revenue)

    total_deals = sum(deals for deals, _ in merged.values())
    shares = []
    for tier in (*TIERS, UNSCORED):
        deals, revenue = merged.get(tier, (0, Decimal(0)))
        if deals:
            percent = _percent(deals, total_deals) or 0.0
            shares.append(TierShare(tier, deals, revenue, percent, total_deals))
    return shares


def rollup_tier_mix(tier_mix: dict | None) -> list[TierShare]:
    """Return a roll-up's `tier_mix` JSON as shares of won deals per tier."""
    # The roll-up stores revenue as a string so the JSON keeps every cent.
    counts = {
        tier: (int(values.get("deals", 0)), Decimal(str(values.get("revenue", "0"))))
        for tier, values in (tier_mix or {}).items()
    }
    return tier_shares(counts)


def partner_leaderboard(*, limit: int = LEADERBOARD_SIZE) -> list[LeaderboardRow]:
    """Return the partners with the most won revenue on tier A/B accounts, best first.

    Partners without a closed deal are left out.
    """
    partners = (
        partner_selectors.partner_list()
        .filter(Q(rollup_won_deals__gt=0) | Q(rollup_lost_deals__gt=0))
        .order_by("-rollup_on_profile_revenue", "-rollup_won_revenue", "name", "id")[:limit]
    )
    return [
        LeaderboardRow(
            rank=rank,
            partner=partner,
            tier_mix=rollup_tier_mix(partner.rollup_tier_mix),
            on_profile_percent=_percent(
                partner.rollup_on_profile_revenue, partner.rollup_won_revenue
            ),
        )
        for rank, partner in enumerate(partners, start=1)
    ]


def deal_source_comparison() -> list[SourceSummary]:
    """Compare partner-sourced and direct deals: wins, revenue, win rate and tier mix.

    The tier of a won deal is the account's tier frozen when the deal was won.
    """
    # Amounts are in the base currency (crm.amounts); a deal whose exchange rate is
    # missing counts as a win without revenue until the rate is added.
    # One pass over the closed deals: a row per source, stage and frozen tier, which
    # Python adds up into each source's totals.
    totals: dict[str, dict] = {}
    tier_counts: dict[str, dict[str, tuple[int, Decimal]]] = {}
    rows = (
        Deal.objects.filter(stage__in=(Deal.Stage.WON, Deal.Stage.LOST))
        .values("source", "stage", "won_fit_tier")
        .annotate(deals=Count("id"), revenue=Sum(amount_in_base()))
    )
    for row in rows:
        total = totals.setdefault(
            row["source"], {"won_deals": 0, "lost_deals": 0, "won_revenue": Decimal(0)}
        )
        if row["stage"] == Deal.Stage.LOST:
            total["lost_deals"] += row["deals"]
            continue
        revenue = row["revenue"] or Decimal(0)
        total["won_deals"] += row["deals"]
        total["won_revenue"] += revenue
        tier_counts.setdefault(row["source"], {})[row["won_fit_tier"]] = (row["deals"], revenue)

    # Open deals have no frozen tier, so their on-profile part uses the account's tier now.
    amount = amount_in_base()
    open_totals = {
        row["source"]: row
        for row in Deal.objects.filter(stage=Deal.Stage.OPEN)
        .values("source")
        .annotate(
            open_deals=Count("id"),
            open_amount=Sum(amount),
            open_on_profile_amount=Sum(amount, filter=Q(account__fit_tier__in=ON_PROFILE_TIERS)),
        )
    }

    summaries = []
    for source in (Deal.Source.PARTNER, Deal.Source.DIRECT):
        row = {**totals.get(source, {}), **open_totals.get(source, {})}
        won_deals = row.get("won_deals", 0)
        lost_deals = row.get("lost_deals", 0)
        won_revenue = row.get("won_revenue", Decimal(0))
        average = (won_revenue / won_deals).quantize(Decimal("0.01")) if won_deals else None
        summaries.append(
            SourceSummary(
                source=source,
                label=source.label,
                won_deals=won_deals,
                lost_deals=lost_deals,
                won_revenue=won_revenue,
                win_rate_percent=_percent(won_deals, won_deals + lost_deals),
                average_won_deal=average,
                tier_mix=tier_shares(tier_counts.get(source, {})),
                open_deals=row.get("open_deals", 0),
                open_amount=row.get("open_amount") or Decimal(0),
                open_on_profile_amount=row.get("open_on_profile_amount") or Decimal(0),
            )
        )
    return summaries


def dashboard_headline() -> Headline:
    """Return account and tier counts, the active ICP version and the ledger totals."""
    # One pass over the accounts counts all of them and each tier. Tier "" is unscored.
    tier_rows = Account.objects.values("fit_tier").annotate(accounts=Count("id"))
    tier_accounts = {row["fit_tier"]: row["accounts"] for row in tier_rows}
    accounts_total = sum(tier_accounts.values())
    scored = accounts_total - tier_accounts.pop("", 0)
    tier_counts = []
    for tier in TIERS:
        accounts = tier_accounts.get(tier, 0)
        tier_counts.append(TierCount(tier, accounts, _percent(accounts, scored) or 0.0, scored))

    ledger_totals = [
        (row["currency"], row["total"] or Decimal(0))
        for row in LedgerEntry.objects.exclude(status=LedgerEntry.Status.VOID)
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by("currency")
    ]
    return Headline(
        accounts_total=accounts_total,
        accounts_scored=scored,
        tier_counts=tier_counts,
        partners_total=Partner.objects.count(),
        active_icp_version=icp_version_active(tenant=current_tenant_id()),
        ledger_totals=ledger_totals,
        deals_failed=Deal.objects.filter(pipeline_status=Deal.PipelineStatus.FAILED).count(),
        plan_active=commission_plan_active() is not None,
    )


def ledger_entries(*, partner_id: int | None = None, status: str = "") -> QuerySet[LedgerEntry]:
    """Return ledger entries for display with `rate_percent` (rate × 100), latest deals first.

    Entries are ordered by their deal's close date, newest first. An entry without
    a deal, or whose deal has no close date, sorts by the UTC date it was booked.
    Entries of the same date are ordered newest booking first.
    """
    entries = ledger_entry_list(partner_id=partner_id, status=status or None)
    return entries.annotate(
        rate_percent=ExpressionWrapper(
            F("rate") * 100, output_field=DecimalField(max_digits=8, decimal_places=2)
        ),
        sort_date=Coalesce("deal__close_date", TruncDate("created_at", tzinfo=datetime.UTC)),
    ).order_by("-sort_date", "-created_at", "-id")
