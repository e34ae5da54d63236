"""Win rate and churn rate per ICP tier, for the dashboard chart.

A won deal counts in the tier frozen on it when it was won (`won_fit_tier`). A won
deal frozen without a tier, because it was processed before any ICP version scored
its account, counts in its account's current tier instead. A lost deal has no
frozen tier, because the pipeline freezes the fit of won deals only, so it counts
in its account's current tier. After a new ICP version is activated the two can
differ for the same account, and `TIER_BASIS_NOTE` states this on the chart.

A customer is an account with a won deal, in the tier of its first won deal
(earliest close date, then lowest id) chosen the same way. `commissions.unit_economics`
uses the frozen tier alone, so its customer counts per tier can be lower. It has
churned when the account has a churn date or a churn revenue event, whenever it
happened, unlike the one-year window of the unit economics.

Every function must run inside a tenant scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Case, Count, F, Value, When
from django.db.models.functions import Coalesce, NullIf

from crm.models import Deal
from tenancy.scope import current_tenant_id

TIERS = ("A", "B", "C", "D")
UNSCORED = "unscored"
TIER_BASIS_NOTE = (
    "Won deals count in the tier their account had when they were won, or its current "
    "tier when it had none then. Lost deals have no frozen tier, so they count in their "
    "account's current tier."
)
_ONE_PLACE = Decimal("0.1")


@dataclass(frozen=True)
class TierOutcome:
    """Closed deals and customers of one ICP tier, or of accounts without a tier."""

    tier: str
    won_deals: int
    lost_deals: int
    customers: int
    churned_customers: int

    @property
    def win_rate_percent(self) -> Decimal | None:
        """Won ÷ (won + lost) × 100, one place, or None without a closed deal."""
        return _percent(self.won_deals, self.won_deals + self.lost_deals)

    @property
    def churn_rate_percent(self) -> Decimal | None:
        """Churned customers ÷ customers × 100, one place, or None without a customer."""
        return _percent(self.churned_customers, self.customers)


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(_ONE_PLACE, ROUND_HALF_UP)


def _tier_key(tier: str) -> str:
    return tier if tier in TIERS else UNSCORED


def _won_tier() -> Coalesce:
    """Return the won-time tier of a deal, else its account's current tier."""
    return Coalesce(NullIf(F("won_fit_tier"), Value("")), F("account__fit_tier"))


# The first won deal of each account (earliest close date, then lowest id) gives
# the customer's tier, as `_won_tier` does. PostgreSQL counts the customers per
# tier, so only a row per tier comes back. Churn events are joined rather than
# checked with EXISTS, whose cost estimate made the planner JIT-compile the query,
# which took longer than running it.
_CUSTOMERS_SQL = """
SELECT coalesce(nullif(f.won_fit_tier, ''), a.fit_tier) AS tier,
       count(*) AS customers,
       count(*) FILTER (
           WHERE a.churned_on IS NOT NULL OR e.account_id IS NOT NULL
       ) AS churned
  FROM (
      SELECT DISTINCT ON (d.account_id) d.account_id, d.won_fit_tier
        FROM crm_deal AS d
       WHERE d.tenant_id = %(tenant_id)s AND d.stage = 'won'
       ORDER BY d.account_id, d.close_date NULLS LAST, d.id
  ) AS f
  LEFT JOIN crm_account AS a ON a.id = f.account_id
  LEFT JOIN (
      SELECT DISTINCT account_id
        FROM commissions_revenueevent
       WHERE tenant_id = %(tenant_id)s AND kind = 'churn' AND account_id IS NOT NULL
  ) AS e ON e.account_id = f.account_id
 GROUP BY 1
"""


def tier_outcomes() -> list[TierOutcome]:
    """Return tiers A to D, then accounts without a tier when they have closed deals."""
    won: dict[str, int] = {}
    lost: dict[str, int] = {}
    closed_tier = Case(When(stage=Deal.Stage.WON, then=_won_tier()), default=F("account__fit_tier"))
    for row in (
        Deal.objects.filter(stage__in=(Deal.Stage.WON, Deal.Stage.LOST))
        .annotate(tier=closed_tier)
        .values("stage", "tier")
        .annotate(n=Count("id"))
    ):
        counts = won if row["stage"] == Deal.Stage.WON else lost
        key = _tier_key(row["tier"] or "")
        counts[key] = counts.get(key, 0) + row["n"]

    customers: dict[str, int] = {}
    churned: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(_CUSTOMERS_SQL, {"tenant_id": current_tenant_id()})
        for tier, tier_customers, tier_churned in cursor.fetchall():
            key = _tier_key(tier or "")
            customers[key] = customers.get(key, 0) + tier_customers
            churned[key] = churned.get(key, 0) + tier_churned

    outcomes = []
    for tier in (*TIERS, UNSCORED):
        outcome = TierOutcome(
            tier=tier,
            won_deals=won.get(tier, 0),
            lost_deals=lost.get(tier, 0),
            customers=customers.get(tier, 0),
            churned_customers=churned.get(tier, 0),
        )
        if tier in TIERS or outcome.won_deals or outcome.lost_deals:
            outcomes.append(outcome)
    return outcomes
