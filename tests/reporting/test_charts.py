"""Chart builders: the numbers they draw and tabulate, and their empty states."""

from __future__ import annotations

from decimal import Decimal

from commissions.unit_economics import PartnerEconomics
from reporting.charts import economics_chart, tier_outcomes_chart
from reporting.tier_outcomes import TierOutcome

URLS = {"economics_url": "/ledger/unit-economics/", "imports_url": "/accounts/imports/"}


def economics(name, customers, without_estimate, ltv, cost, share):
    return PartnerEconomics(
        partner_id=len(name),
        partner_name=name,
        customers=customers,
        customers_without_estimate=without_estimate,
        expected_lifetime_value=Decimal(ltv),
        commission_cost=Decimal(cost),
        cost_share=None if share is None else Decimal(share),
        over_limit=False,
    )


def test_economics_chart_rows():
    partners = [
        economics("Estimated", 6, 1, "50000.00", "2500.00", "0.0500"),
        economics("No estimate", 2, 2, "0.00", "300.00", None),
        economics("No customers", 0, 0, "0.00", "0.00", None),
    ]

    chart = economics_chart(partners, currency="EUR", **URLS)

    assert chart.config["data"]["labels"] == ["Estimated", "No estimate"]
    assert chart.config["data"]["datasets"][0]["data"] == [2500.0, 300.0]
    assert chart.config["data"]["datasets"][1]["data"] == [50000.0, None]
    assert chart.config["options"]["scales"]["x"]["title"]["text"] == "Amount (EUR)"
    assert chart.rows == [
        ["Estimated", "6", "1", "2,500.00", "50,000.00", "5.0%"],
        ["No estimate", "2", "2", "300.00", "–", "–"],
    ]
    assert chart.more_link == "/ledger/unit-economics/"


def test_economics_chart_empty():
    chart = economics_chart([economics("Idle", 0, 0, "0", "0", None)], currency="USD", **URLS)

    assert chart.rows == []
    assert chart.empty_link == "/accounts/imports/"
    assert chart.summary == "No partner has brought a customer yet."


def test_tier_outcomes_chart_skips_tiers_without_deals():
    outcomes = [
        TierOutcome("A", 3, 1, 3, 1),
        TierOutcome("B", 0, 0, 0, 0),
        TierOutcome("unscored", 0, 2, 0, 0),
    ]

    chart = tier_outcomes_chart(outcomes, imports_url="/accounts/imports/")

    assert chart.config["data"]["labels"] == ["Tier A", "Unscored"]
    assert chart.config["data"]["datasets"][0]["data"] == [75.0, 0.0]
    assert chart.config["data"]["datasets"][1]["data"] == [33.3, None]
    assert chart.rows[0] == ["Tier A", "3", "1", "75.0%", "3", "1", "33.3%"]
    assert chart.rows[1] == ["Unscored", "0", "2", "0.0%", "0", "0", "–"]
    assert chart.summary == (
        "Bar chart of win rate and churn rate per tier. Tier A: win rate 75.0%, "
        "churn rate 33.3%; Unscored: win rate 0.0%, churn rate –."
    )
