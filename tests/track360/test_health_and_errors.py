import pytest

from tenancy.http import client_address


def test_healthz_reports_database_and_redis(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_degraded_when_redis_down(client, db, settings):
    # Nothing listens on port 1 of the loopback address.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "redis": "unreachable"}


def test_api_404_is_json(client, db):
    response = client.get("/api/v1/nothing-here/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "/api/schema/" in response.json()["fix"]


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.2"),
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "203.0.113.66, 198.51.100.1", "198.51.100.1"),
        (2, "203.0.113.66, 198.51.100.1, 10.0.0.9", "198.51.100.1"),
        (2, "198.51.100.1", "10.0.0.2"),
        (1, "", "10.0.0.2"),
    ],
)
def test_client_address_trusts_only_proxies(settings, proxies, forwarded, expected):
    settings.TRACK360_TRUSTED_PROXIES = proxies
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": forwarded}

    assert client_address(meta) == expected
