"""Unit economics: expected customer lifetime value per ICP tier, and each partner's share of it.

Per ICP tier A to D, from all of the tenant's won deals, whatever their source:

- a customer is an account with at least one won deal. Its tier is the frozen tier
  (`won_fit_tier`) of its first won deal (earliest close date, then lowest id), and
  its value is the sum of the amounts of all its won deals;
- average value = total value of the tier's customers / their number;
- churn rate = customers whose `churned_on` is at most 365 days after the close date
  of their first won deal / customers. A churn date before that close date counts
  as churned within the year. A customer whose first won deal has no close date
  cannot be placed in the window and counts as not churned;
- expected lifetime in years = 1 / churn rate, capped at MAX_LIFETIME_YEARS, and
  the cap when the churn rate is 0;
- expected lifetime value (LTV) = average value × expected lifetime, rounded half up
  to cents.

A tier with fewer than MIN_TIER_CUSTOMERS customers has "not enough data": its
churn rate and expected LTV are None.

Per partner, from the deals credited to it (`Deal.partner`) and its ledger entries:

- customers: the accounts with a won deal credited to the partner, each in the tier
  of its first such deal;
- expected LTV: the sum of the expected LTV of each customer's tier. Customers of a
  tier without enough data, or without a tier, add nothing and are counted in
  `customers_without_estimate`;
- commission cost: the sum of the amounts of its ledger entries that are not void,
  so reversals (negative amounts) reduce it;
- cost share = commission cost / expected LTV, to four places, None when the
  expected LTV is 0;
- over the limit when the cost share is greater than the tenant's
  `max_commission_share`. A share equal to the limit is not over it.

Amounts are in the tenant's base currency, which the deal import and API require.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection

from crm.amounts import amount_in_base_sql
from partners.models import Partner

logger = logging.getLogger(__name__)

TIERS = ("A", "B", "C", "D")
# Fewer won customers than this in a tier give no churn rate or expected LTV for it.
MIN_TIER_CUSTOMERS = 5
# The longest expected customer lifetime, in years, used when churn is low or zero.
MAX_LIFETIME_YEARS = Decimal("5")
CHURN_WINDOW_DAYS = 365
_CENTS = Decimal("0.01")
_RATIO_PLACES = Decimal("0.0001")

AMOUNT = amount_in_base_sql(tenant_id_sql="%(tenant_id)s")

# One pass over the won deals: the window sums each account's won value while the
# same sort picks its first won deal.
_TIERS_SQL = f"""
WITH customers AS (
    SELECT DISTINCT ON (d.account_id)
           d.account_id, d.won_fit_tier, d.close_date AS first_close,
           sum({AMOUNT}) OVER (
               PARTITION BY d.account_id
               ORDER BY d.close_date NULLS LAST, d.id
               ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
           ) AS won_value
      FROM crm_deal AS d
     WHERE d.tenant_id = %(tenant_id)s AND d.stage = 'won'
     ORDER BY d.account_id, d.close_date NULLS LAST, d.id
)
SELECT c.won_fit_tier,
       count(*) AS customers,
       coalesce(sum(c.won_value), 0) AS total_value,
       count(*) FILTER (
           WHERE a.churned_on IS NOT NULL
             AND c.first_close IS NOT NULL
             AND a.churned_on - c.first_close <= %(window_days)s
       ) AS churned
  FROM customers AS c
  JOIN crm_account AS a ON a.tenant_id = %(tenant_id)s AND a.id = c.account_id
 WHERE c.won_fit_tier = ANY(%(tiers)s)
 GROUP BY c.won_fit_tier
"""  # noqa: S608 - AMOUNT is a fixed SQL fragment

_PARTNER_CUSTOMERS_SQL = """
WITH customers AS (
    SELECT DISTINCT ON (d.partner_id, d.account_id) d.partner_id, d.won_fit_tier
      FROM crm_deal AS d
     WHERE d.tenant_id = %(tenant_id)s AND d.partner_id IS NOT NULL AND d.stage = 'won'
     ORDER BY d.partner_id, d.account_id, d.close_date NULLS LAST, d.id
)
SELECT partner_id, won_fit_tier, count(*) AS customers
  FROM customers
 GROUP BY partner_id, won_fit_tier
"""

_PARTNER_COST_SQL = """
SELECT partner_id, sum(amount) AS commission_cost
  FROM commissions_ledgerentry
 WHERE tenant_id = %(tenant_id)s AND status <> 'void'
 GROUP BY partner_id
"""


@dataclass(frozen=True)
class TierEconomics:
    """Customers, average won value, churn and expected LTV of one ICP tier."""

    tier: str
    customers: int
    average_value: Decimal | None
    churned_customers: int
    churn_rate: Decimal | None
    expected_lifetime_years: Decimal | None
    expected_lifetime_value: Decimal | None

    @property
    def enough_data(self) -> bool:
        return self.customers >= MIN_TIER_CUSTOMERS


@dataclass(frozen=True)
class PartnerEconomics:
    """One partner's referred customers, their expected LTV, its commission cost and share."""

    partner_id: int
    partner_name: str
    customers: int
    customers_without_estimate: int
    expected_lifetime_value: Decimal
    commission_cost: Decimal
    cost_share: Decimal | None
    over_limit: bool


@dataclass(frozen=True)
class UnitEconomics:
    """The tenant's tier table, its partner rows and the share limit they were checked against."""

    max_commission_share: Decimal
    tiers: list[TierEconomics]
    partners: list[PartnerEconomics]


def _rows(sql: str, params: dict) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def tier_economics_from(
    *, tier: str, customers: int, total_value: Decimal, churned: int
) -> TierEconomics:
    """Compute one tier's figures from its customer count, total won value and churned count."""
    average = (
        (Decimal(total_value) / customers).quantize(_CENTS, ROUND_HALF_UP) if customers else None
    )
    if customers < MIN_TIER_CUSTOMERS:
        return TierEconomics(tier, customers, average, churned, None, None, None)
    churn_rate = (Decimal(churned) / customers).quantize(_RATIO_PLACES, ROUND_HALF_UP)
    lifetime = MAX_LIFETIME_YEARS
    if churned:
        # The exact ratio, not the rounded churn rate, so the rounding does not move the LTV.
        lifetime = min(MAX_LIFETIME_YEARS, Decimal(customers) / Decimal(churned))
    expected = (Decimal(total_value) / customers * lifetime).quantize(_CENTS, ROUND_HALF_UP)
    return TierEconomics(
        tier,
        customers,
        average,
        churned,
        churn_rate,
        lifetime.quantize(_RATIO_PLACES, ROUND_HALF_UP),
        expected,
    )


def tier_economics(*, tenant_id: int) -> list[TierEconomics]:
    """Compute the figures of tiers A to D from the tenant's won deals, in tier order."""
    params = {"tenant_id": tenant_id, "tiers": list(TIERS), "window_days": CHURN_WINDOW_DAYS}
    found = {row["won_fit_tier"]: row for row in _rows(_TIERS_SQL, params)}
    result = []
    for tier in TIERS:
        row = found.get(tier, {"customers": 0, "total_value": Decimal("0"), "churned": 0})
        result.append(
            tier_economics_from(
                tier=tier,
                customers=row["customers"],
                total_value=row["total_value"],
                churned=row["churned"],
            )
        )
    return result


def cost_share_over_limit(cost_share: Decimal | None, limit: Decimal) -> bool:
    """Return True when the cost share is greater than the limit; equal is not over."""
    return cost_share is not None and cost_share > limit


def unit_economics(*, tenant) -> UnitEconomics:
    """Compute the tier table and every partner's row, partners by cost share, highest first.

    Partners without a cost share (no expected LTV) come last, then by name.
    """
    logger.info("unit_economics.started tenant_id=%s", tenant.pk)
    tiers = tier_economics(tenant_id=tenant.pk)
    tier_ltv = {row.tier: row.expected_lifetime_value for row in tiers}
    params = {"tenant_id": tenant.pk}
    customers: dict[int, dict[str, int]] = {}
    for row in _rows(_PARTNER_CUSTOMERS_SQL, params):
        customers.setdefault(row["partner_id"], {})[row["won_fit_tier"]] = row["customers"]
    costs = {row["partner_id"]: row["commission_cost"] for row in _rows(_PARTNER_COST_SQL, params)}
    limit = tenant.max_commission_share

    partners = []
    for partner_id, name in (
        Partner.objects.filter(tenant_id=tenant.pk).order_by("name").values_list("id", "name")
    ):
        by_tier = customers.get(partner_id, {})
        expected = Decimal("0.00")
        without_estimate = 0
        for tier, count in by_tier.items():
            value = tier_ltv.get(tier)
            if value is None:
                without_estimate += count
            else:
                expected += value * count
        cost = Decimal(costs.get(partner_id) or 0).quantize(_CENTS, ROUND_HALF_UP)
        share = (cost / expected).quantize(_RATIO_PLACES, ROUND_HALF_UP) if expected else None
        partners.append(
            PartnerEconomics(
                partner_id=partner_id,
                partner_name=name,
                customers=sum(by_tier.values()),
                customers_without_estimate=without_estimate,
                expected_lifetime_value=expected,
                commission_cost=cost,
                cost_share=share,
                over_limit=cost_share_over_limit(share, limit),
            )
        )
    partners.sort(key=lambda row: (row.cost_share is None, -(row.cost_share or 0)))
    logger.info(
        "unit_economics.finished tenant_id=%s partners=%s over_limit=%s",
        tenant.pk,
        len(partners),
        sum(row.over_limit for row in partners),
    )
    return UnitEconomics(max_commission_share=limit, tiers=tiers, partners=partners)


def partner_economics(*, tenant, partner_id: int) -> PartnerEconomics | None:
    """Return one partner's row of `unit_economics`, or None when it is not the tenant's."""
    # NOTE: computes every partner's row to read one, so the partner page runs the
    # tenant-wide queries on each view. Store the row with the partner score if that is slow.
    for row in unit_economics(tenant=tenant).partners:
        if row.partner_id == partner_id:
            return row
    return None
