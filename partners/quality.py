"""Delivered results of partners: on-profile revenue, customer tiers, win rate, churn, cost.

Every figure comes from the deals credited to the partner (`Deal.partner`) and its
ledger entries, for a chunk of partners in three set-based SQL statements:

- won and lost deals, won revenue, and on-profile won revenue: the won amount of
  deals whose fit tier frozen at won time (`won_fit_tier`) is A or B;
- win rate: won / (won + lost); None when the partner has no closed deal;
- customers: the distinct accounts with a won deal credited to the partner. Each
  customer's tier is the frozen tier of its first such deal (earliest close date,
  then lowest id), and an empty tier counts as "unscored";
- churn: customers whose account has a churn date, over all customers;
- commission cost: the sum of the partner's ledger entries that are not void;
- lifetime value (LTV): the won amount of the customers' credited deals net of churn.
  A deal on an account that has not churned counts in full. On a churned account it
  counts amount × min(1, days from its close date to the churn date / 365), with the
  days clipped at 0, and a deal without a close date counts 0. This is the rule
  `icp.learning.weighting` uses when learning from closed deals. The sum is rounded
  half up to cents;
- commission cost / lifetime value, to four places; None when the LTV is 0.

Amounts are summed as stored: deals and ledger entries are in the tenant's base
currency, which the deal import and API require.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection

from crm.amounts import amount_in_base_sql
from icp.learning.weighting import LIFETIME_DAYS
from partners.models import customer_tiers_empty
from partners.overlap import ON_PROFILE_TIERS

CUSTOMER_TIERS = ("A", "B", "C", "D")
UNSCORED = "unscored"
_CENTS = Decimal("0.01")
_RATIO_PLACES = Decimal("0.0001")
# The largest commission / lifetime value ratio PartnerScore stores. A tiny lifetime
# value could give a larger ratio, which would mean the same: cost far above value.
MAX_COST_RATIO = Decimal("99999999.9999")

AMOUNT = amount_in_base_sql()

_DEALS_SQL = f"""
SELECT d.partner_id,
       count(*) FILTER (WHERE d.stage = 'won') AS won_deal_count,
       count(*) FILTER (WHERE d.stage = 'lost') AS lost_deal_count,
       coalesce(sum({AMOUNT}) FILTER (WHERE d.stage = 'won'), 0) AS won_revenue,
       coalesce(
           sum({AMOUNT}) FILTER (WHERE d.stage = 'won' AND d.won_fit_tier = ANY(%(on_profile)s)),
           0
       ) AS on_profile_won_revenue,
       coalesce(sum(
           CASE WHEN a.churned_on IS NULL THEN {AMOUNT}
                WHEN d.close_date IS NULL THEN 0
                ELSE {AMOUNT} * least(
                    1, greatest(0, a.churned_on - d.close_date)::numeric / %(lifetime_days)s
                )
           END
       ) FILTER (WHERE d.stage = 'won'), 0) AS lifetime_value
  FROM crm_deal AS d
  LEFT JOIN crm_account AS a ON a.tenant_id = d.tenant_id AND a.id = d.account_id
 WHERE d.tenant_id = %(tenant_id)s
   AND d.partner_id = ANY(%(partner_ids)s)
   AND d.stage IN ('won', 'lost')
 GROUP BY d.partner_id
"""  # noqa: S608 - AMOUNT is a fixed SQL fragment

_CUSTOMERS_SQL = """
WITH customers AS (
    SELECT DISTINCT ON (d.partner_id, d.account_id)
           d.partner_id, d.won_fit_tier, a.churned_on
      FROM crm_deal AS d
      JOIN crm_account AS a ON a.tenant_id = d.tenant_id AND a.id = d.account_id
     WHERE d.tenant_id = %(tenant_id)s
       AND d.partner_id = ANY(%(partner_ids)s)
       AND d.stage = 'won'
     ORDER BY d.partner_id, d.account_id, d.close_date NULLS LAST, d.id
)
SELECT partner_id,
       count(*) AS customer_count,
       count(*) FILTER (WHERE won_fit_tier = 'A') AS tier_a,
       count(*) FILTER (WHERE won_fit_tier = 'B') AS tier_b,
       count(*) FILTER (WHERE won_fit_tier = 'C') AS tier_c,
       count(*) FILTER (WHERE won_fit_tier = 'D') AS tier_d,
       count(*) FILTER (WHERE won_fit_tier NOT IN ('A', 'B', 'C', 'D')) AS tier_unscored,
       count(*) FILTER (WHERE churned_on IS NOT NULL) AS churned_customer_count
  FROM customers
 GROUP BY partner_id
"""

_LEDGER_SQL = """
SELECT partner_id, sum(amount) AS commission_cost
  FROM commissions_ledgerentry
 WHERE tenant_id = %(tenant_id)s AND partner_id = ANY(%(partner_ids)s) AND status <> 'void'
 GROUP BY partner_id
"""


@dataclass
class PartnerQuality:
    """One partner's delivered results, as PartnerScore stores them."""

    won_deal_count: int = 0
    lost_deal_count: int = 0
    win_rate: Decimal | None = None
    won_revenue: Decimal = Decimal("0.00")
    on_profile_won_revenue: Decimal = Decimal("0.00")
    customer_count: int = 0
    customer_tiers: dict[str, int] = field(default_factory=customer_tiers_empty)
    on_profile_customer_share: Decimal | None = None
    churned_customer_count: int = 0
    churn_rate: Decimal | None = None
    commission_cost: Decimal = Decimal("0.0000")
    lifetime_value: Decimal = Decimal("0.00")
    commission_to_lifetime_value: Decimal | None = None


def _ratio(numerator, denominator) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(
        _RATIO_PLACES, rounding=ROUND_HALF_UP
    )


def _rows(sql: str, params: dict) -> dict[int, dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def partner_quality(*, tenant_id: int, partner_ids: list[int]) -> dict[int, PartnerQuality]:
    """Compute the delivered results of `partner_ids`, the tenant's partners, by partner id.

    Every partner in `partner_ids` gets an entry, with zeros and Nones when it has no
    closed deal and no ledger entry.
    """
    params = {
        "tenant_id": tenant_id,
        "partner_ids": list(partner_ids),
        "on_profile": list(ON_PROFILE_TIERS),
        "lifetime_days": LIFETIME_DAYS,
    }
    deals = _rows(_DEALS_SQL, params)
    customers = _rows(_CUSTOMERS_SQL, params)
    ledger = _rows(_LEDGER_SQL, params)

    results = {}
    for partner_id in partner_ids:
        quality = PartnerQuality()
        deal_row = deals.get(partner_id)
        if deal_row is not None:
            quality.won_deal_count = deal_row["won_deal_count"]
            quality.lost_deal_count = deal_row["lost_deal_count"]
            quality.won_revenue = deal_row["won_revenue"]
            quality.on_profile_won_revenue = deal_row["on_profile_won_revenue"]
            quality.lifetime_value = Decimal(deal_row["lifetime_value"]).quantize(
                _CENTS, rounding=ROUND_HALF_UP
            )
        quality.win_rate = _ratio(
            quality.won_deal_count, quality.won_deal_count + quality.lost_deal_count
        )
        customer_row = customers.get(partner_id)
        if customer_row is not None:
            quality.customer_count = customer_row["customer_count"]
            quality.customer_tiers = {
                **{tier: customer_row[f"tier_{tier.lower()}"] for tier in CUSTOMER_TIERS},
                UNSCORED: customer_row["tier_unscored"],
            }
            quality.churned_customer_count = customer_row["churned_customer_count"]
        on_profile_customers = sum(quality.customer_tiers[tier] for tier in ON_PROFILE_TIERS)
        quality.on_profile_customer_share = _ratio(on_profile_customers, quality.customer_count)
        quality.churn_rate = _ratio(quality.churned_customer_count, quality.customer_count)
        ledger_row = ledger.get(partner_id)
        if ledger_row is not None:
            quality.commission_cost = ledger_row["commission_cost"]
        cost_ratio = _ratio(quality.commission_cost, quality.lifetime_value)
        if cost_ratio is not None:
            cost_ratio = min(cost_ratio, MAX_COST_RATIO)
        quality.commission_to_lifetime_value = cost_ratio
        results[partner_id] = quality
    return results
