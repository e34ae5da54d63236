"""The dashboard's overview cards, charts and leaderboard link, in the polled fragment."""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal

from django.contrib.staticfiles import finders
from django.urls import reverse

from commissions.unit_economics import unit_economics
from crm.services import deal_upsert
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory

HTMX = {"HX-Request": "true"}
CHART_KEYS = ["revenue-by-month", "tier-mix", "tier-outcomes", "economics"]


def live(client) -> str:
    return client.get(reverse("reporting:dashboard_live"), headers=HTMX).content.decode()


def chart_config(content: str, key: str) -> dict:
    found = re.search(
        rf'<script id="chart-{key}-data" type="application/json">(.*?)</script>', content, re.S
    )
    assert found is not None, key
    return json.loads(found.group(1))


def figure_of(content: str, key: str) -> str:
    found = re.search(
        rf'<figure class="chart" data-chart="chart-{key}-data".*?</figure>', content, re.S
    )
    assert found is not None, key
    return found.group(0)


def test_overview_cards_show_fit_and_pending(staff_client, program):
    content = live(staff_client)

    assert "On-profile partner revenue" in content
    # The one partner deal is tier A: 12,500.00 of 12,500.00.
    assert '<div class="card-value">100.0%</div>' in content
    assert "12,500.00 of 12,500.00 USD partner-sourced won revenue" in content
    # The partner win scored 100, and the direct win has no frozen score.
    assert "<dt>Partner-sourced</dt><dd>100.0</dd>" in content
    assert "<dt>Direct</dt><dd>–</dd>" in content
    ledger = reverse("commissions:ledger_list")
    assert f'<a href="{ledger}?status=pending">1,875.00 pending</a>' in content
    assert f'<a href="{ledger}?status=held">0.00 held for review</a>' in content


def test_every_chart_has_figure_table_and_canvas(staff_client, program):
    content = live(staff_client)

    for key in CHART_KEYS:
        figure = figure_of(content, key)
        assert "<figcaption" in figure, key
        assert '<canvas role="img" aria-label="' in figure, key
        assert f'<details class="chart-data" data-live-key="chart-{key}">' in figure, key
        assert "<summary>Data table</summary>" in figure, key
        assert "<table" in figure, key


def test_revenue_chart_numbers(staff_client, program):
    content = live(staff_client)

    config = chart_config(content, "revenue-by-month")
    # The program's two wins both closed on 2017-06-01, so one month is shown.
    assert config["data"]["labels"] == ["Jun 2017"]
    assert config["data"]["datasets"][0]["data"] == [12500.0]
    assert config["data"]["datasets"][1]["data"] == [4000.0]
    assert config["options"]["scales"]["y"]["title"]["text"] == "Won revenue (USD)"
    figure = figure_of(content, "revenue-by-month")
    assert (
        '<th scope="row">Jun 2017</th><td class="num">12,500.00</td><td class="num">1</td>'
        '<td class="num">4,000.00</td><td class="num">1</td>'
    ) in figure


def test_tier_charts_numbers(staff_client, program):
    content = live(staff_client)

    mix = chart_config(content, "tier-mix")
    assert mix["data"]["labels"] == ["Acme Referrals"]
    assert mix["data"]["datasets"] == [
        {"label": "Tier A", "data": [100.0], "backgroundColor": "#1e7b4f"}
    ]
    assert mix["options"]["indexAxis"] == "y"
    assert mix["options"]["scales"]["x"]["title"]["text"] == "Share of won deals (%)"

    outcomes = chart_config(content, "tier-outcomes")
    # Won: A (partner) and C (direct). Lost: the direct account, tier C now.
    assert outcomes["data"]["labels"] == ["Tier A", "Tier C"]
    assert outcomes["data"]["datasets"][0]["data"] == [100.0, 50.0]
    # The direct customer has a churn event, the partner customer none.
    assert outcomes["data"]["datasets"][1]["data"] == [0.0, 100.0]
    assert "Lost deals have no frozen tier" in figure_of(content, "tier-outcomes")


def test_economics_chart_uses_unit_economics(staff_client, program):
    content = live(staff_client)

    with tenant_scope(program.tenant):
        expected = [row for row in unit_economics(tenant=program.tenant).partners if row.customers]
    config = chart_config(content, "economics")
    assert config["data"]["labels"] == [row.partner_name for row in expected]
    assert config["data"]["datasets"][0]["data"] == [float(row.commission_cost) for row in expected]
    assert config["data"]["datasets"][0]["data"] == [1875.0]
    # One tier A customer is below the minimum for an estimate, so no lifetime value.
    assert config["data"]["datasets"][1]["data"] == [None]
    figure = figure_of(content, "economics")
    assert (
        '<th scope="row">Acme Referrals</th><td class="num">1</td><td class="num">1</td>'
        '<td class="num">1,875.00</td><td class="num">–</td><td class="num">–</td>'
    ) in figure
    assert reverse("commissions:unit_economics") in figure_of(content, "economics")


def test_empty_charts_say_what_to_do(staff_client, tenant):
    content = live(staff_client)
    imports = reverse("crm:import_list")

    for key in CHART_KEYS:
        figure = figure_of(content, key)
        assert "<canvas" not in figure, key
        assert f'<a href="{imports}">on the Imports page</a>' in figure, key
    assert "No partner-sourced revenue yet." in content


def test_leaderboard_links_to_partner_list(staff_client, program):
    content = live(staff_client)

    url = reverse("partners:partner_list")
    assert f'<a href="{url}?sort=-on_profile_revenue">See all partners</a>' in content


def test_dashboard_loads_chart_scripts(staff_client, program):
    content = staff_client.get(reverse("reporting:dashboard")).content.decode()

    chart_js = content.index('src="/static/vendor/chartjs/chart.umd.min.js"')
    charts_js = content.index('src="/static/js/charts.js"')
    assert chart_js < charts_js


def test_chartjs_is_vendored():
    assert finders.find("vendor/chartjs/chart.umd.min.js") is not None
    assert finders.find("vendor/chartjs/LICENSE") is not None
    assert finders.find("js/charts.js") is not None


def test_won_partner_deal_changes_next_render(
    staff_client, program, django_capture_on_commit_callbacks
):
    before = live(staff_client)
    with tenant_scope(program.tenant):
        # Retail with 10 employees meets no criterion of the active version: tier D.
        account = AccountFactory(name="Small Shop", industry="retail", employees=10)
    with tenant_scope(program.tenant), django_capture_on_commit_callbacks(execute=True):
        deal, created = deal_upsert(
            tenant=program.tenant,
            external_id="live-partner-win",
            stage="won",
            amount=Decimal("10000.00"),
            currency="USD",
            close_date=datetime.date(2017, 7, 10),
            account_external_id=account.external_id,
            partner_external_id=program.partner.external_id,
        )

    after = live(staff_client)

    with tenant_scope(program.tenant):
        deal.refresh_from_db()
    assert created
    assert deal.pipeline_status == "processed"
    assert deal.won_fit_tier == "D"
    assert '<div class="card-value">100.0%</div>' in before
    # 12,500 on-profile of 22,500 partner-sourced revenue.
    assert '<div class="card-value">55.6%</div>' in after
    assert "12,500.00 of 22,500.00 USD partner-sourced won revenue" in after
    # (100 + 0) / 2
    assert "<dt>Partner-sourced</dt><dd>50.0</dd>" in after
    assert chart_config(after, "revenue-by-month")["data"]["labels"] == ["Jun 2017", "Jul 2017"]
    assert "Tier D" in json.dumps(chart_config(after, "tier-mix"))
