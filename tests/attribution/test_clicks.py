"""The redirect at /r/<code> and the drain that writes queued clicks."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from django.conf import settings
from django.core.management import call_command

from attribution import clickqueue, clicks
from attribution.clicks import COOKIE_NAME, clicks_drain
from attribution.links import link_create, link_deactivate, link_for_code
from attribution.models import Click, TrackingLink
from tenancy.scope import tenant_scope
from tests.factories import PartnerFactory


@pytest.fixture
def link(link_hosts, partner):
    return link_create(
        partner=partner, destination="https://acme-analytics.com/signup?plan=pro&utm_source=site"
    )


def queued() -> list[dict]:
    return [json.loads(raw) for raw in clickqueue.client().lrange(clickqueue.QUEUE_KEY, 0, -1)]


def redirect_query(response) -> dict:
    return parse_qs(urlsplit(response["Location"]).query)


def test_redirect_sets_cookie_and_queues_click(client, link):
    response = client.get(
        f"/r/{link.code}",
        headers={
            "User-Agent": "Mozilla/5.0 " + "x" * 400,
            "Referer": "https://News.Example.org/post/1",
        },
    )

    cookie = response.cookies[COOKIE_NAME]
    visitor_id = cookie.value
    assert response.status_code == 302
    assert response["Location"].startswith("https://acme-analytics.com/signup?")
    assert redirect_query(response)["t360_vid"] == [visitor_id]
    assert response["Cache-Control"] == "no-store"
    assert cookie["max-age"] == 90 * 24 * 3600
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["secure"] == ""
    [record] = queued()
    assert record["v"] == visitor_id
    assert record["l"] == link.pk
    assert record["t"] == link.tenant_id
    assert record["ua"] == ("Mozilla/5.0 " + "x" * 400)[:300]
    assert record["rh"] == "news.example.org"
    expected = hmac.new(settings.SECRET_KEY.encode(), b"127.0.0.1", hashlib.sha256).hexdigest()
    assert record["ip"] == expected
    assert "127.0.0.1" not in json.dumps(record)


def test_cookie_is_secure_over_https(client, link):
    response = client.get(f"/r/{link.code}", secure=True)

    assert response.cookies[COOKIE_NAME]["secure"] is True


def test_returning_visitor_keeps_cookie(client, link):
    first = client.get(f"/r/{link.code}")
    visitor_id = first.cookies[COOKIE_NAME].value

    second = client.get(f"/r/{link.code}")

    assert COOKIE_NAME not in second.cookies
    assert redirect_query(second)["t360_vid"] == [visitor_id]
    assert [record["v"] for record in queued()] == [visitor_id, visitor_id]
    assert len({record["id"] for record in queued()}) == 2


def test_malformed_cookie_replaced(client, link):
    client.cookies[COOKIE_NAME] = "<script>"

    response = client.get(f"/r/{link.code}")

    assert response.cookies[COOKIE_NAME].value != "<script>"
    assert clicks.VISITOR_ID.match(response.cookies[COOKIE_NAME].value)


def test_cached_redirect_runs_no_query(client, link, django_assert_num_queries):
    link_for_code(link.code)

    with django_assert_num_queries(0):
        response = client.get(f"/r/{link.code}")

    assert response.status_code == 302
    assert len(queued()) == 1
    assert Click.all_tenants.count() == 0


def test_utm_parameters_forwarded(client, link):
    response = client.get(
        f"/r/{link.code}?utm_campaign=spring&utm_source=newsletter&ref=evil&t360_vid=forged"
    )

    query = redirect_query(response)
    assert query["utm_campaign"] == ["spring"]
    assert query["utm_source"] == ["site"]
    assert query["plan"] == ["pro"]
    assert "ref" not in query
    assert query["t360_vid"] == [response.cookies[COOKIE_NAME].value]


def test_unknown_code_is_404_without_cookie(client, db):
    response = client.get("/r/Unknown234")

    assert response.status_code == 404
    assert COOKIE_NAME not in response.cookies
    assert queued() == []


def test_inactive_link_is_404(client, link, django_capture_on_commit_callbacks):
    link_for_code(link.code)
    with django_capture_on_commit_callbacks(execute=True):
        link_deactivate(link=link)

    response = client.get(f"/r/{link.code}")

    assert response.status_code == 404
    assert COOKIE_NAME not in response.cookies


def test_head_redirects_without_click(client, link):
    response = client.head(f"/r/{link.code}")

    assert response.status_code == 302
    assert queued() == []


def test_post_not_allowed(client, link):
    assert client.post(f"/r/{link.code}").status_code == 405


def test_redis_down_still_redirects(client, link, monkeypatch):
    link_for_code(link.code)

    def broken(record):
        raise redis.ConnectionError("down")

    monkeypatch.setattr(clickqueue, "push", broken)

    response = client.get(f"/r/{link.code}")

    assert response.status_code == 302


def test_full_queue_drops_click_but_redirects(client, link, settings):
    settings.TRACK360_CLICK_QUEUE_MAX = 1

    client.get(f"/r/{link.code}")
    response = client.get(f"/r/{link.code}")

    assert response.status_code == 302
    assert len(queued()) == 1


# The drain


def push_clicks(client, link, count: int) -> list[str]:
    for _ in range(count):
        client.cookies.clear()
        client.get(f"/r/{link.code}")
    return [record["id"] for record in queued()]


def test_drain_writes_clicks(client, link, partner):
    click_ids = push_clicks(client, link, 3)

    result = clicks_drain()

    assert (result.read, result.written, result.duplicates) == (3, 3, 0)
    assert result.partners_by_tenant == {link.tenant_id: [partner.pk]}
    assert clickqueue.lengths() == (0, 0)
    with tenant_scope(link.tenant_id):
        stored = Click.objects.get(click_id=click_ids[0])
    assert stored.link_id == link.pk
    assert stored.partner_id == partner.pk
    assert len(stored.ip_hash) == 64
    assert abs(stored.clicked_at - datetime.datetime.now(tz=datetime.UTC)).total_seconds() < 60


def test_drain_in_batches(client, link):
    push_clicks(client, link, 5)

    first = clicks_drain(batch_size=2, max_batches=1)
    rest = clicks_drain(batch_size=2)

    assert (first.batches, first.written) == (1, 2)
    assert (rest.batches, rest.written) == (2, 3)
    assert Click.all_tenants.count() == 5


def test_replayed_record_adds_nothing(client, link):
    push_clicks(client, link, 1)
    raw = clickqueue.client().lindex(clickqueue.QUEUE_KEY, 0)
    clickqueue.client().lpush(clickqueue.QUEUE_KEY, raw)

    result = clicks_drain()

    assert (result.read, result.written, result.duplicates) == (2, 1, 1)
    assert Click.all_tenants.count() == 1


def test_crash_before_commit_keeps_records(client, link, monkeypatch):
    push_clicks(client, link, 3)

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr("attribution.touches.touches_for_new_clicks", crash)
    with pytest.raises(RuntimeError):
        clicks_drain()

    assert Click.all_tenants.count() == 0
    assert clickqueue.lengths() == (0, 3)

    monkeypatch.undo()
    result = clicks_drain()

    assert result.written == 3
    assert clickqueue.lengths() == (0, 0)


def test_crash_after_commit_replays_nothing(client, link, monkeypatch):
    push_clicks(client, link, 2)

    def crash(count):
        raise redis.ConnectionError("lost Redis before acknowledging")

    monkeypatch.setattr(clickqueue, "acknowledge", crash)
    with pytest.raises(redis.ConnectionError):
        clicks_drain()
    assert Click.all_tenants.count() == 2
    assert clickqueue.lengths() == (0, 2)

    monkeypatch.undo()
    result = clicks_drain()

    assert (result.written, result.duplicates) == (0, 2)
    assert Click.all_tenants.count() == 2
    assert clickqueue.lengths() == (0, 0)


def test_recovered_batch_goes_before_new_clicks(client, link):
    push_clicks(client, link, 2)
    clickqueue.move_batch(2)
    push_clicks(client, link, 1)

    result = clicks_drain(batch_size=10, max_batches=1)

    assert result.written == 2
    assert clickqueue.lengths() == (1, 0)


def test_invalid_and_orphaned_records_are_dropped(client, link, partner):
    push_clicks(client, link, 1)
    other = link_create(partner=partner, destination="https://acme-analytics.com/")
    client.cookies.clear()
    client.get(f"/r/{other.code}")
    TrackingLink.all_tenants.filter(pk=other.pk).delete()
    for raw in (b"not json", b'{"t": 1}', json.dumps({**queued()[0], "v": "<bad>"}).encode()):
        clickqueue.client().lpush(clickqueue.QUEUE_KEY, raw)

    result = clicks_drain()

    assert (result.read, result.written, result.invalid, result.orphaned) == (5, 1, 3, 1)
    assert clickqueue.lengths() == (0, 0)


def test_second_drainer_skips(client, link):
    push_clicks(client, link, 1)
    lock = clickqueue.drain_lock(60)
    assert lock.acquire()
    try:
        result = clicks_drain()
    finally:
        lock.release()

    assert result.skipped is True
    assert clickqueue.lengths() == (1, 0)


def test_drain_reports_partners_by_tenant(client, link, partner, other_tenant):
    other_tenant.link_domains = ["globex.com"]
    other_tenant.save()
    with tenant_scope(other_tenant):
        globex_partner = PartnerFactory(tenant=other_tenant)
        globex_link = link_create(partner=globex_partner, destination="https://globex.com/")
    push_clicks(client, link, 1)
    client.get(f"/r/{globex_link.code}")

    result = clicks_drain()

    assert result.partners_by_tenant == {
        link.tenant_id: [partner.pk],
        other_tenant.pk: [globex_partner.pk],
    }
    with tenant_scope(other_tenant):
        assert Click.objects.get().partner == globex_partner


def test_drain_command(client, link):
    push_clicks(client, link, 2)
    output = StringIO()

    call_command("drain_clicks", "--batch-size", "1", stdout=output)

    assert "Read 2 records in 2 batches: 2 written" in output.getvalue()
    assert "0 still queued" in output.getvalue()
