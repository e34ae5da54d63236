"""Tracking links: destination checks, codes, deactivation and the Redis cache."""

from __future__ import annotations

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attribution import clickqueue, links
from attribution.links import (
    CODE_ALPHABET,
    CODE_LENGTH,
    destination_check,
    link_create,
    link_deactivate,
    link_for_code,
)
from attribution.models import TrackingLink
from partners.models import Partner
from tenancy.errors import DomainError
from tenancy.models import AuditEvent


@pytest.mark.parametrize(
    "url",
    [
        "https://acme-analytics.com/",
        "http://acme-analytics.com/pricing?plan=pro#top",
        "https://www.acme-analytics.com/signup",
        "https://shop.eu.acme-analytics.com:8443/",
        "https://ACME-ANALYTICS.com/",
    ],
)
def test_destination_accepted(link_hosts, url):
    assert destination_check(tenant=link_hosts, url=f"  {url} ") == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("javascript:alert(1)", "scheme 'javascript'"),
        ("data:text/html;base64,PHNjcmlwdD4=", "scheme 'data'"),
        ("ftp://acme-analytics.com/file", "scheme 'ftp'"),
        ("//acme-analytics.com/", "scheme '(none)'"),
        ("acme-analytics.com/", "scheme '(none)'"),
        ("https://user:secret@acme-analytics.com/", "user name or password"),
        ("https://acme-analytics.com@evil.com/", "user name or password"),
        ("https://acme-analytics.com\\@evil.com/", "backslashes"),
        ("https://acme-analytics.com/a b", "spaces"),
        ("https://acme-analytics.com/\x00", "control characters"),
        ("https://evil.com/", "not one of the tenant's link hosts"),
        ("https://acme-analytics.com.evil.com/", "not one of the tenant's link hosts"),
        ("https://evilacme-analytics.com/", "not one of the tenant's link hosts"),
        ("https://acme-analytics.com:99999/", "port is invalid"),
        ("https://localhost/", "not a host name"),
        ("https://127.0.0.1/", "not under a public domain suffix"),
        ("https:///path", "not a host name"),
        ("https://acme-analytics.com/" + "a" * 2000, "longer than 2000"),
        ("", "missing"),
    ],
)
def test_destination_rejected(link_hosts, url, message):
    with pytest.raises(DomainError) as caught:
        destination_check(tenant=link_hosts, url=url)

    assert caught.value.field == "destination"
    assert message in caught.value.message
    assert caught.value.fix


def test_destination_needs_link_hosts(scoped):
    with pytest.raises(DomainError) as caught:
        destination_check(tenant=scoped, url="https://acme-analytics.com/")

    assert "has not listed the hosts" in caught.value.message
    assert "Settings → Tracking links" in caught.value.fix
    assert "/api/v1/settings/attribution/" in caught.value.fix


def test_internationalised_host_matches_punycode(scoped):
    scoped.link_domains = ["xn--bcher-kva.ch"]

    assert (
        destination_check(tenant=scoped, url="https://www.bücher.ch/") == "https://www.bücher.ch/"
    )


def test_link_create_draws_code(link_hosts, partner, admin_user):
    link = link_create(
        partner=partner, destination="https://acme-analytics.com/", label="Blog", actor=admin_user
    )

    assert len(link.code) == CODE_LENGTH
    assert set(link.code) <= set(CODE_ALPHABET)
    assert link.is_active is True
    assert link.created_by == admin_user
    assert AuditEvent.objects.get(event="link.created").after["code"] == link.code


def test_codes_differ(link_hosts, partner):
    codes = {
        link_create(partner=partner, destination="https://acme-analytics.com/").code
        for _ in range(20)
    }

    assert len(codes) == 20


def test_code_collision_draws_again(link_hosts, partner, rival, monkeypatch):
    taken_code = link_create(partner=rival, destination="https://acme-analytics.com/").code
    drawn = iter([taken_code, "Fresh23456"])
    monkeypatch.setattr(links, "code_new", lambda: next(drawn))

    link = link_create(partner=partner, destination="https://acme-analytics.com/")

    assert link.code == "Fresh23456"
    assert TrackingLink.objects.count() == 2


def test_code_collisions_give_up(link_hosts, partner, monkeypatch):
    taken_code = link_create(partner=partner, destination="https://acme-analytics.com/").code
    monkeypatch.setattr(links, "code_new", lambda: taken_code)

    with pytest.raises(RuntimeError, match="no free link code"):
        link_create(partner=partner, destination="https://acme-analytics.com/")

    assert TrackingLink.objects.count() == 1


def test_label_too_long(link_hosts, partner):
    with pytest.raises(DomainError) as caught:
        link_create(partner=partner, destination="https://acme-analytics.com/", label="x" * 101)

    assert caught.value.field == "label"


def test_terminated_partner_gets_no_link(link_hosts, partner):
    Partner.objects.filter(pk=partner.pk).update(status=Partner.Status.TERMINATED)
    partner.refresh_from_db()

    with pytest.raises(DomainError) as caught:
        link_create(partner=partner, destination="https://acme-analytics.com/")

    assert caught.value.field == "partner"
    assert TrackingLink.objects.count() == 0


def test_deactivate_is_idempotent(link_hosts, partner, django_capture_on_commit_callbacks):
    link = link_create(partner=partner, destination="https://acme-analytics.com/")

    with django_capture_on_commit_callbacks(execute=True):
        link_deactivate(link=link)
        link_deactivate(link=link)

    link.refresh_from_db()
    assert link.is_active is False
    assert AuditEvent.objects.filter(event="link.deactivated").count() == 1


def test_link_cached_after_first_read(link_hosts, partner):
    link = link_create(partner=partner, destination="https://acme-analytics.com/")

    first = link_for_code(link.code)
    with CaptureQueriesContext(connection) as queries:
        second = link_for_code(link.code)

    assert first == second
    assert second.partner_id == partner.pk
    assert second.tenant_id == link_hosts.pk
    assert len(queries) == 0


def test_deactivation_clears_cache(link_hosts, partner, django_capture_on_commit_callbacks):
    link = link_create(partner=partner, destination="https://acme-analytics.com/")
    assert link_for_code(link.code) is not None

    with django_capture_on_commit_callbacks(execute=True):
        link_deactivate(link=link)

    assert link_for_code(link.code) is None


def test_unknown_code_cached_as_missing(db):
    assert link_for_code("Unknown234") is None

    with CaptureQueriesContext(connection) as queries:
        assert link_for_code("Unknown234") is None

    assert len(queries) == 0


def test_new_link_clears_missing_entry(
    link_hosts, partner, monkeypatch, django_capture_on_commit_callbacks
):
    assert link_for_code("Later23456") is None
    monkeypatch.setattr(links, "code_new", lambda: "Later23456")

    with django_capture_on_commit_callbacks(execute=True):
        link_create(partner=partner, destination="https://acme-analytics.com/")

    assert link_for_code("Later23456") is not None


@pytest.mark.parametrize("code", ["short", "has-dash12", "x" * 17, "../etc/pa"])
def test_malformed_code_reads_nothing(db, code):
    with CaptureQueriesContext(connection) as queries:
        assert link_for_code(code) is None

    assert len(queries) == 0


def test_redis_down_falls_back_to_database(link_hosts, partner, monkeypatch):
    link = link_create(partner=partner, destination="https://acme-analytics.com/")

    class Broken:
        def get(self, key):
            raise redis.ConnectionError("down")

        def set(self, *args, **kwargs):
            raise redis.ConnectionError("down")

    monkeypatch.setattr(clickqueue, "client", lambda: Broken())

    assert link_for_code(link.code).link_id == link.pk


def test_removed_link_host_stops_redirect(link_hosts, partner):
    link = link_create(partner=partner, destination="https://www.acme-analytics.com/")
    link_hosts.link_domains = ["other-site.com"]
    link_hosts.save()

    assert link_for_code(link.code) is None
