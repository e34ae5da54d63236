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
