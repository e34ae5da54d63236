"""API keys over their life: expiry, revocation, last use and per-key rate limits."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenancy.errors import DomainError
from tenancy.models import ApiKey, Membership
from tenancy.services import api_key_create, api_key_mark_used, api_key_revoke
from tests.factories import MembershipFactory, UserFactory

URL = "/api/v1/deals/"


def auth(raw_key: str) -> dict:
    return {"Authorization": f"Api-Key {raw_key}"}


@pytest.fixture
def key_and_raw(tenant):
    key, raw_key = api_key_create(tenant=tenant, name="lifecycle", scopes=["crm:read"])
    cache.delete(f"throttle_api_key_{key.pk}")
    return key, raw_key


def apikey_updates(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('UPDATE "tenancy_apikey"')]


def test_expired_key_rejected(client, key_and_raw):
    key, raw_key = key_and_raw
    expired_at = timezone.now() - datetime.timedelta(minutes=1)
    ApiKey.all_tenants.filter(pk=key.pk).update(expires_at=expired_at)

    response = client.get(URL, headers=auth(raw_key))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert response.json() == {
        "code": "authentication_failed",
        "message": f"The API key {key.prefix}… expired at {expired_at:%Y-%m-%d %H:%M} UTC: "
        "create a new key in Settings → API keys.",
    }


def test_key_works_until_expiry(client, tenant):
    expires_at = timezone.now() + datetime.timedelta(hours=1)
    _, raw_key = api_key_create(
        tenant=tenant, name="expiring", scopes=["crm:read"], expires_at=expires_at
    )

    assert client.get(URL, headers=auth(raw_key)).status_code == 200


@pytest.mark.parametrize(
    "expires_at",
    [
        timezone.now() - datetime.timedelta(seconds=1),
        timezone.now() + datetime.timedelta(days=3651),
    ],
)
def test_expiry_out_of_range_rejected(tenant, expires_at):
    with pytest.raises(DomainError) as error:
        api_key_create(tenant=tenant, name="bad", scopes=["crm:read"], expires_at=expires_at)

    assert error.value.field == "expires_at"
    assert not ApiKey.all_tenants.exists()


def test_revoked_key_rejected(client, key_and_raw):
    key, raw_key = key_and_raw
    assert client.get(URL, headers=auth(raw_key)).status_code == 200

    api_key_revoke(key=key)
    response = client.get(URL, headers=auth(raw_key))

    assert response.status_code == 401
    assert "was revoked on" in response.json()["message"]


def test_revoke_twice_keeps_first_time(key_and_raw):
    key, _ = key_and_raw
    first = api_key_revoke(key=key).revoked_at

    second = api_key_revoke(key=ApiKey.all_tenants.get(pk=key.pk)).revoked_at

    assert second == first


def test_last_used_written_once_a_minute(client, key_and_raw):
    key, raw_key = key_and_raw

    with CaptureQueriesContext(connection) as first:
        client.get(URL, headers=auth(raw_key))
    key.refresh_from_db()
    first_use = key.last_used_at
    with CaptureQueriesContext(connection) as second:
        client.get(URL, headers=auth(raw_key))
    key.refresh_from_db()

    assert first_use is not None
    assert len(apikey_updates(first.captured_queries)) == 1
    assert apikey_updates(second.captured_queries) == []
    assert key.last_used_at == first_use


def test_last_used_written_after_a_minute(client, key_and_raw):
    key, raw_key = key_and_raw
    old = timezone.now() - datetime.timedelta(seconds=61)
    ApiKey.all_tenants.filter(pk=key.pk).update(last_used_at=old)

    client.get(URL, headers=auth(raw_key))
    key.refresh_from_db()

    assert key.last_used_at > old + datetime.timedelta(seconds=60)


def test_mark_used_writes_once_for_concurrent_requests(key_and_raw):
    key, _ = key_and_raw
    now = timezone.now()
    other_copy = ApiKey.all_tenants.get(pk=key.pk)

    first = api_key_mark_used(key=key, now=now)
    second = api_key_mark_used(key=other_copy, now=now + datetime.timedelta(seconds=1))

    assert first is True
    assert second is False
    assert ApiKey.all_tenants.get(pk=key.pk).last_used_at == now


@override_settings(TRACK360_API_RATE="3/min")
def test_key_throttled_with_retry_after(client, key_and_raw):
    _, raw_key = key_and_raw

    statuses = [client.get(URL, headers=auth(raw_key)).status_code for _ in range(3)]
    throttled = client.get(URL, headers=auth(raw_key))

    assert statuses == [200, 200, 200]
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    retry_after = throttled["Retry-After"]
    assert retry_after.isdigit()
    assert 1 <= int(retry_after) <= 60


@override_settings(TRACK360_API_RATE="2/min")
def test_keys_throttled_separately(client, tenant, key_and_raw):
    _, raw_key = key_and_raw
    other, other_raw = api_key_create(tenant=tenant, name="other", scopes=["crm:read"])
    cache.delete(f"throttle_api_key_{other.pk}")

    for _ in range(2):
        client.get(URL, headers=auth(raw_key))

    assert client.get(URL, headers=auth(raw_key)).status_code == 429
    assert client.get(URL, headers=auth(other_raw)).status_code == 200


@override_settings(TRACK360_API_RATE="100/min")
def test_key_rate_overrides_default(client, tenant):
    key, raw_key = api_key_create(tenant=tenant, name="slow", scopes=["crm:read"], rate="2/min")
    cache.delete(f"throttle_api_key_{key.pk}")

    statuses = [client.get(URL, headers=auth(raw_key)).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


@pytest.mark.parametrize("rate", ["fast", "0/min", "10/fortnight", "10", "-1/s"])
def test_invalid_rate_rejected(tenant, rate):
    with pytest.raises(DomainError) as error:
        api_key_create(tenant=tenant, name="bad", scopes=["crm:read"], rate=rate)

    assert error.value.field == "rate"
    assert error.value.value == rate


@override_settings(TRACK360_SESSION_API_RATE="2/min", TRACK360_API_RATE="100/min")
def test_session_user_throttled_apart_from_keys(client, tenant, key_and_raw):
    _, raw_key = key_and_raw
    user = UserFactory(username="session-throttle")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.ANALYST)
    cache.delete(f"throttle_api_session_{user.pk}")
    client.force_login(user)

    session_statuses = [client.get(URL).status_code for _ in range(3)]
    key_response = client.get(URL, headers=auth(raw_key))

    assert session_statuses == [200, 200, 429]
    assert key_response.status_code == 200
