"""Charts of the dashboard and the partner pages: a Chart.js configuration and a table.

Each builder turns a selector's result into a `Chart`. The page renders its table on
the server, so the numbers can be read without JavaScript, and static/js/charts.js
draws `config` with Chart.js. Amounts are in the tenant's base currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from commissions.unit_economics import PartnerEconomics
from reporting.selectors import UNSCORED, LeaderboardRow
from reporting.tier_outcomes import TIER_BASIS_NOTE, TierOutcome
from reporting.trends import MonthRevenue, MonthTierRevenue

# The colours of app.css (--accent, --tier-a to --tier-d, --tier-unscored).
PARTNER_COLOUR = "#2457c5"
DIRECT_COLOUR = "#9aa5b1"
TIER_COLOURS = {
    "A": "#1e7b4f",
    "B": "#5a9e2f",
    "C": "#c98a0b",
    "D": "#b44a3f",
    UNSCORED: "#9aa5b1",
}
WIN_COLOUR = "#1e7b4f"
CHURN_COLOUR = "#b44a3f"
COST_COLOUR = "#b44a3f"
LTV_COLOUR = "#2457c5"
# Partners drawn in the cost against lifetime value chart.
ECONOMICS_PARTNERS_SHOWN = 10


@dataclass(frozen=True)
class Chart:
    """One chart of the dashboard, with its data table and what to show without data."""

    key: str
    title: str
    # Text alternative of the canvas, which screen readers read in its place.
    summary: str
    config: dict
    headers: list[str]
    rows: list[list[str]]
    note: str = ""
    # Shown in place of the chart when `rows` is empty: a sentence, then a link.
    empty_text: str = ""
    empty_link_label: str = ""
    empty_link: str = ""
    # A page with more detail, linked under the chart.
    more_link_label: str = ""
    more_link: str = ""
    numeric_columns: set[int] = field(default_factory=set)

    @property
    def script_id(self) -> str:
        return f"chart-{self.key}-data"


def money(value: Decimal | None) -> str:
    return "–" if value is None else f"{value:,.2f}"


def percent(value: Decimal | float | None) -> str:
    return "–" if value is None else f"{Decimal(str(value)):.1f}%"


def tier_label(tier: str) -> str:
    return "Unscored" if tier == UNSCORED else f"Tier {tier}"


def _axis(title: str, *, stacked: bool = False, maximum: int | None = None) -> dict:
    axis = {"title": {"display": True, "text": title}, "beginAtZero": True, "stacked": stacked}
    if maximum is not None:
        axis["max"] = maximum
    return axis


def _bar_config(
    labels: list[str],
    datasets: list[dict],
    *,
    value_title: str,
    category_title: str,
    horizontal: bool = False,
    stacked: bool = False,
    maximum: int | None = None,
) -> dict:
    value_axis = _axis(value_title, stacked=stacked, maximum=maximum)
    category_axis = _axis(category_title, stacked=stacked)
    scales = {"x": category_axis, "y": value_axis}
    if horizontal:
        scales = {"x": value_axis, "y": category_axis}
    return {
        "type": "bar",
        "data": {"labels": labels, "datasets": datasets},
        "options": {"indexAxis": "y" if horizontal else "x", "scales": scales},
    }


def revenue_by_month_chart(months: list[MonthRevenue], *, currency: str, imports_url: str):
    """Build the chart of partner-sourced against direct won revenue per month."""
    labels = [month.month.strftime("%b %Y") for month in months]
    config = _bar_config(
        labels,
        [
            {
                "label": "Partner-sourced",
                "data": [float(month.partner_revenue) for month in months],
                "backgroundColor": PARTNER_COLOUR,
            },
            {
                "label": "Direct",
                "data": [float(month.direct_revenue) for month in months],
                "backgroundColor": DIRECT_COLOUR,
            },
        ],
        value_title=f"Won revenue ({currency})",
        category_title="Month of close date",
    )
    partner_total = sum((month.partner_revenue for month in months), Decimal(0))
    direct_total = sum((month.direct_revenue for month in months), Decimal(0))
    summary = (
        f"Bar chart of won revenue per month from {labels[0]} to {labels[-1]}: "
        f"{money(partner_total)} {currency} partner-sourced and "
        f"{money(direct_total)} {currency} direct."
        if months
        else "No won deals yet."
    )
    return Chart(
        key="revenue-by-month",
        title="Partner-sourced vs direct won revenue per month",
        summary=summary,
        config=config,
        headers=[
            "Month",
            f"Partner-sourced revenue ({currency})",
            "Partner-sourced deals",
            f"Direct revenue ({currency})",
            "Direct deals",
        ],
        rows=[
            [
                label,
                money(month.partner_revenue),
                f"{month.partner_deals:,}",
                money(month.direct_revenue),
                f"{month.direct_deals:,}",
            ]
            for label, month in zip(labels, months, strict=True)
        ],
        numeric_columns={1, 2, 3, 4},
        note="Up to 12 months, ending with the month of the latest close date of a won deal.",
        empty_text="No won deal has a close date yet. Import deals with a close_date column",
        empty_link_label="on the Imports page",
        empty_link=imports_url,
    )


def partner_revenue_chart(
    months: list[MonthTierRevenue],
    *,
    currency: str,
    empty_text: str,
    empty_link_label: str,
    empty_link: str,
):
    """Build the chart of one partner's won revenue per month, stacked by frozen tier.

    The partner page and the partner's own portal show it, so the text on an empty
    chart comes from the caller.
    """
    labels = [month.month.strftime("%b %Y") for month in months]
    tiers = [tier for tier in TIER_COLOURS if any(month.revenue[tier] for month in months)]
    config = _bar_config(
        labels,
        [
            {
                "label": tier_label(tier),
                "data": [float(month.revenue[tier]) for month in months],
                "backgroundColor": TIER_COLOURS[tier],
            }
            for tier in tiers
        ],
        value_title=f"Won revenue ({currency})",
        category_title="Month of close date",
        stacked=True,
    )
    totals = {tier: sum((month.revenue[tier] for month in months), Decimal(0)) for tier in tiers}
    summary = (
        f"Stacked bar chart of won revenue per month from {labels[0]} to {labels[-1]} by "
        "ICP tier: "
        + ", ".join(
            f"{tier_label(tier)} {money(total)} {currency}" for tier, total in totals.items()
        )
        + "."
        if months
        else "No won deals yet."
    )
    return Chart(
        key="partner-revenue",
        title="Won revenue per month by ICP tier",
        summary=summary,
        config=config,
        headers=["Month", *[f"{tier_label(tier)} ({currency})" for tier in tiers], "Won deals"],
        rows=[
            [label, *[money(month.revenue[tier]) for tier in tiers], f"{month.deals:,}"]
            for label, month in zip(labels, months, strict=True)
        ],
        numeric_columns=set(range(1, len(tiers) + 2)),
        note=(
            "Up to 12 months, ending with the month of the latest close date of a won deal. "
            "A deal counts in the tier its account had when it was won."
        ),
        empty_text=empty_text,
        empty_link_label=empty_link_label,
        empty_link=empty_link,
    )


def tier_mix_chart(leaderboard: list[LeaderboardRow], *, imports_url: str):
    """Build the chart of each leaderboard partner's won deals by frozen tier."""
    rows = [row for row in leaderboard if row.tier_mix]
    tiers = [*TIER_COLOURS]
    shares = [{share.tier: share for share in row.tier_mix} for row in rows]
    datasets = [
        {
            "label": tier_label(tier),
            "data": [float(by_tier[tier].percent) if tier in by_tier else 0 for by_tier in shares],
            "backgroundColor": TIER_COLOURS[tier],
        }
        for tier in tiers
        if any(tier in by_tier for by_tier in shares)
    ]
    config = _bar_config(
        [row.partner.name for row in rows],
        datasets,
        value_title="Share of won deals (%)",
        category_title="Partner",
        horizontal=True,
        stacked=True,
        maximum=100,
    )
    summary = "; ".join(
        f"{row.partner.name}: "
        + ", ".join(f"{tier_label(s.tier)} {s.percent_label}" for s in row.tier_mix)
        for row in rows
    )
    return Chart(
        key="tier-mix",
        title="Won deals by ICP tier, top partners",
        summary=f"Stacked bar chart of won deals by tier per partner. {summary}."
        if rows
        else "No partner has won a deal yet.",
        config=config,
        headers=["Partner", *[f"{tier_label(tier)} (% of deals)" for tier in tiers]],
        rows=[
            [
                row.partner.name,
                *[
                    f"{by_tier[tier].percent_label} ({by_tier[tier].deals:,})"
                    if tier in by_tier
                    else "0%"
                    for tier in tiers
                ],
            ]
            for row, by_tier in zip(rows, shares, strict=True)
        ],
        numeric_columns=set(range(1, len(tiers) + 1)),
        note="Partners in leaderboard order. A deal's tier is the one frozen when it was won; "
        "the number of won deals is in brackets.",
        empty_text="No partner has won a deal yet. Import deals with a partner_external_id column",
        empty_link_label="on the Imports page",
        empty_link=imports_url,
    )


def tier_outcomes_chart(outcomes: list[TierOutcome], *, imports_url: str):
    """Build the chart of win rate and churn rate per ICP tier."""
    closed = [row for row in outcomes if row.won_deals or row.lost_deals]
    labels = [tier_label(row.tier) for row in closed]
    config = _bar_config(
        labels,
        [
            {
                "label": "Win rate",
                "data": [_float(row.win_rate_percent) for row in closed],
                "backgroundColor": WIN_COLOUR,
            },
            {
                "label": "Churn rate",
                "data": [_float(row.churn_rate_percent) for row in closed],
                "backgroundColor": CHURN_COLOUR,
            },
        ],
        value_title="Rate (%)",
        category_title="ICP tier",
        maximum=100,
    )
    summary = "; ".join(
        f"{tier_label(row.tier)}: win rate {percent(row.win_rate_percent)}, "
        f"churn rate {percent(row.churn_rate_percent)}"
        for row in closed
    )
    return Chart(
        key="tier-outcomes",
        title="Win rate and churn rate by ICP tier",
        summary=f"Bar chart of win rate and churn rate per tier. {summary}."
        if closed
        else "No closed deals yet.",
        config=config,
        headers=[
            "Tier",
            "Won deals",
            "Lost deals",
            "Win rate (%)",
            "Customers",
            "Churned",
            "Churn rate (%)",
        ],
        rows=[
            [
                tier_label(row.tier),
                f"{row.won_deals:,}",
                f"{row.lost_deals:,}",
                percent(row.win_rate_percent),
                f"{row.customers:,}",
                f"{row.churned_customers:,}",
                percent(row.churn_rate_percent),
            ]
            for row in closed
        ],
        numeric_columns={1, 2, 3, 4, 5, 6},
        note=f"Win rate is won ÷ (won + lost). {TIER_BASIS_NOTE} Churn rate is the share of "
        "customers (accounts with a won deal, in the tier of their first win) that have a "
        "churn date or a churn event.",
        empty_text="No deal is won or lost yet. Import deals",
        empty_link_label="on the Imports page",
        empty_link=imports_url,
    )


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _estimated_ltv(row: PartnerEconomics) -> Decimal | None:
    """Return the partner's expected lifetime value, or None when no customer has an estimate."""
    if row.customers_without_estimate == row.customers:
        return None
    return row.expected_lifetime_value


def economics_chart(
    partners: list[PartnerEconomics], *, currency: str, economics_url: str, imports_url: str
):
    """Build the chart of commission cost against expected customer lifetime value."""
    shown = [row for row in partners if row.customers][:ECONOMICS_PARTNERS_SHOWN]
    config = _bar_config(
        [row.partner_name for row in shown],
        [
            {
                "label": "Commission cost",
                "data": [float(row.commission_cost) for row in shown],
                "backgroundColor": COST_COLOUR,
            },
            {
                "label": "Expected lifetime value",
                "data": [_float(_estimated_ltv(row)) for row in shown],
                "backgroundColor": LTV_COLOUR,
            },
        ],
        value_title=f"Amount ({currency})",
        category_title="Partner",
        horizontal=True,
    )
    summary = "; ".join(
        f"{row.partner_name}: cost {money(row.commission_cost)}, "
        f"expected lifetime value {money(_estimated_ltv(row))} {currency}"
        for row in shown
    )
    return Chart(
        key="economics",
        title="Commission cost against customer lifetime value per partner",
        summary=f"Bar chart of commission cost and expected lifetime value. {summary}."
        if shown
        else "No partner has brought a customer yet.",
        config=config,
        headers=[
            "Partner",
            "Customers",
            "Customers without an estimate",
            f"Commission cost ({currency})",
            f"Expected lifetime value ({currency})",
            "Cost share (%)",
        ],
        rows=[
            [
                row.partner_name,
                f"{row.customers:,}",
                f"{row.customers_without_estimate:,}",
                money(row.commission_cost),
                money(_estimated_ltv(row)),
                percent(row.cost_share * 100 if row.cost_share is not None else None),
            ]
            for row in shown
        ],
        numeric_columns={1, 2, 3, 4, 5},
        note="Partners with the highest cost share first, from the unit economics page. "
        "Customers in a tier with too few customers for an estimate add no lifetime value, "
        "and a partner none of whose customers has an estimate shows none (–).",
        empty_text="No partner has brought a won customer yet. Import deals with a "
        "partner_external_id column",
        empty_link_label="on the Imports page",
        empty_link=imports_url,
        more_link_label="Unit economics per tier and partner",
        more_link=economics_url,
    )
