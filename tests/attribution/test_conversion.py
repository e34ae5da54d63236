"""Conversions: POST /api/v1/touches/ turns a visitor's clicks into link touches."""

from __future__ import annotations

import datetime
import json

import pytest

from attribution import clickqueue
from attribution.clicks import COOKIE_NAME, clicks_drain
from attribution.links import link_create
from attribution.models import Click, Touch, VisitorConversion
from crm.models import Deal
from tenancy.models import Tenant
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory

URL = "/api/v1/touches/"


@pytest.fixture
def acme(scoped):
    return AccountFactory(tenant=scoped, name="Acme", domain="acme.com")


@pytest.fixture
def links(link_hosts, partner, rival):
    return {
        "partner": link_create(partner=partner, destination="https://acme-analytics.com/"),
        "rival": link_create(partner=rival, destination="https://acme-analytics.com/"),
    }


def visit(client, link) -> str:
    client.get(f"/r/{link.code}")
    return client.cookies[COOKIE_NAME].value


def convert(client, headers, visitor_id, **company):
    body = {"visitor_id": visitor_id, **(company or {"email": "ceo@acme.com"})}
    return client.post(URL, body, content_type="application/json", headers=headers)


def set_click_time(click_id: str, when: datetime.datetime) -> None:
    Click.objects.filter(click_id=click_id).update(clicked_at=when)


def test_conversion_writes_touch_per_click(client, headers, acme, links, partner, rival):
    visitor = visit(client, links["partner"])
    visit(client, links["rival"])
    visit(client, links["partner"])
    clicks_drain()
    open_deal = DealFactory(tenant=acme.tenant, account=acme, stage="open", close_date=None)

    response = convert(client, headers, visitor)

    assert response.status_code == 201
    data = response.json()
    assert data["domain"] == "acme.com"
    assert data["clicks"] == 3
    assert data["touches_written"] == 3
    assert data["partner_ids"] == sorted([partner.pk, rival.pk])
    touches = Touch.objects.order_by("touched_at")
    assert [touch.kind for touch in touches] == ["link"] * 3
    clicks = Click.objects.order_by("clicked_at")
    assert [touch.touched_at for touch in touches] == [click.clicked_at for click in clicks]
    assert [touch.click_id for touch in touches] == [click.pk for click in clicks]
    open_deal.refresh_from_db()
    assert open_deal.partner == partner


def test_last_touch_credits_latest_click(client, headers, acme, links, rival):
    Tenant.objects.filter(pk=acme.tenant_id).update(attribution_touch="last")
    visitor = visit(client, links["partner"])
    visit(client, links["rival"])
    clicks_drain()
    first, second = Click.objects.order_by("id")
    set_click_time(first.click_id, datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    set_click_time(second.click_id, datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC))
    deal = DealFactory(
        tenant=acme.tenant, account=acme, stage="won", close_date=datetime.date(2026, 1, 20)
    )

    convert(client, headers, visitor)

    deal.refresh_from_db()
    assert deal.partner == rival


def test_repeated_conversion_adds_nothing(client, headers, acme, links):
    visitor = visit(client, links["partner"])
    clicks_drain()
    convert(client, headers, visitor)

    response = convert(client, headers, visitor, domain="https://www.acme.com/")

    assert response.status_code == 200
    assert response.json()["touches_written"] == 0
    assert Touch.objects.count() == 1
    assert VisitorConversion.objects.count() == 1


def test_clicks_drained_later_become_touches(client, headers, acme, links, partner):
    visitor = visit(client, links["partner"])
    response = convert(client, headers, visitor)
    assert response.json()["clicks"] == 0
    assert Touch.objects.count() == 0
    deal = DealFactory(tenant=acme.tenant, account=acme, stage="open", close_date=None)

    result = clicks_drain()

    deal.refresh_from_db()
    assert result.written == 1
    assert Touch.objects.get().partner == partner
    assert deal.partner == partner


def test_clicks_after_conversion_are_not_touches(client, headers, acme, links):
    visitor = visit(client, links["partner"])
    convert(client, headers, visitor)
    raw = clickqueue.client().lindex(clickqueue.QUEUE_KEY, 0)
    record = json.loads(raw)
    record["at"] = record["at"] + 3600
    clickqueue.client().lset(clickqueue.QUEUE_KEY, 0, json.dumps(record))

    clicks_drain()

    assert Click.objects.count() == 1
    assert Touch.objects.count() == 0


def test_unknown_company_touch_waits_for_account(client, headers, links, partner):
    visitor = visit(client, links["partner"])
    clicks_drain()

    response = convert(client, headers, visitor, domain="newco.io")

    assert response.status_code == 201
    assert Touch.objects.get().domain == "newco.io"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"visitor_id": "short", "domain": "acme.com"}, "visitor_id"),
        ({"visitor_id": "has spaces in it", "domain": "acme.com"}, "visitor_id"),
        ({"visitor_id": "abcdefghijk", "email": "jane@gmail.com"}, "email"),
        ({"visitor_id": "abcdefghijk", "url": "javascript:alert(1)"}, "url"),
        ({"visitor_id": "abcdefghijk"}, "domain"),
        ({"visitor_id": "abcdefghijk", "domain": "acme.com", "email": "a@acme.com"}, "domain"),
    ],
)
def test_invalid_conversion_names_field(client, headers, scoped, body, field):
    response = client.post(URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 400
    data = response.json()
    named = data.get("field") or data["errors"][0]["field"]
    assert named == field
    assert VisitorConversion.objects.count() == 0


def test_analyst_may_not_report(analyst_client, scoped):
    response = analyst_client.post(
        URL, {"visitor_id": "abcdefghijk", "domain": "acme.com"}, content_type="application/json"
    )

    assert response.status_code == 403


def test_other_tenants_visitor_has_no_clicks(
    client, headers, other_headers, acme, links, other_tenant
):
    visitor = visit(client, links["partner"])
    clicks_drain()

    response = convert(client, other_headers, visitor)

    assert response.status_code == 201
    assert response.json()["clicks"] == 0
    assert Touch.all_tenants.count() == 0
    with tenant_scope(other_tenant):
        assert VisitorConversion.objects.count() == 1


def test_deal_credit_moves_only_when_unbooked(client, headers, acme, links):
    booked = DealFactory(
        tenant=acme.tenant, account=acme, stage="won", pipeline_status=Deal.PipelineStatus.PROCESSED
    )
    visitor = visit(client, links["partner"])
    clicks_drain()

    convert(client, headers, visitor)

    booked.refresh_from_db()
    assert booked.partner is None
