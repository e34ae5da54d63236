import pytest

from tenancy.models import AuditEvent
from tenancy.services import api_key_create
from tests.api.conftest import auth, count_queries
from webhooks import ssrf
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_create

from .conftest import endpoint_create as endpoint_store

ENDPOINTS = "/api/v1/webhooks/endpoints/"
DELIVERIES = "/api/v1/webhooks/deliveries/"


@pytest.fixture
def dns(monkeypatch):
    """Resolve example.com names to a public address without asking a DNS server."""
    monkeypatch.setattr(ssrf, "resolve_host", lambda host, port: ["93.184.215.14"])


@pytest.fixture
def analyst_client(client, tenant):
    from tenancy.models import Membership
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory(username="analyst-acme")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.ANALYST)
    client.force_login(user)
    return client


def test_create_returns_secret_once(staff_client, tenant, dns):
    response = staff_client.post(
        ENDPOINTS,
        {"url": "https://hooks.example.com/t360", "event_types": ["deal.scored", "deal.scored"]},
        content_type="application/json",
    )

    body = response.json()
    endpoint = WebhookEndpoint.all_tenants.get()
    assert response.status_code == 201
    assert body["secret"] == endpoint.secret
    assert body["event_types"] == ["deal.scored"]
    listed = staff_client.get(ENDPOINTS).json()["results"][0]
    assert "secret" not in listed
    assert "secret" not in staff_client.get(f"{ENDPOINTS}{endpoint.pk}/").json()
    audit = AuditEvent.all_tenants.get(event="webhook_endpoint.created")
    assert endpoint.secret not in str(audit.after)


def test_create_same_url_twice_is_conflict(staff_client, dns):
    data = {"url": "https://hooks.example.com/t360", "event_types": ["payout.approved"]}
    staff_client.post(ENDPOINTS, data, content_type="application/json")

    response = staff_client.post(ENDPOINTS, data, content_type="application/json")

    assert response.status_code == 409
    assert response.json()["field"] == "url"
    assert WebhookEndpoint.all_tenants.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "http://10.0.0.5/hook", "event_types": ["deal.scored"]}, "url"),
        ({"url": "ftp://hooks.example.com/", "event_types": ["deal.scored"]}, "url"),
        ({"url": "https://hooks.example.com/", "event_types": ["deal.won"]}, "event_types"),
        ({"url": "https://hooks.example.com/", "event_types": []}, "event_types"),
        ({"url": "https://hooks.example.com/", "event_types": ["ping"]}, "event_types"),
    ],
)
def test_create_rejects_bad_input(staff_client, data, field, monkeypatch):
    monkeypatch.setattr(
        ssrf,
        "resolve_host",
        lambda host, port: [host] if host[0].isdigit() else ["93.184.215.14"],
    )

    response = staff_client.post(ENDPOINTS, data, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["fix"]
    assert WebhookEndpoint.all_tenants.count() == 0


def test_patch_changes_only_sent_fields(staff_client, tenant, dns):
    endpoint = endpoint_store(tenant, "https://hooks.example.com/a", description="Old")

    response = staff_client.patch(
        f"{ENDPOINTS}{endpoint.pk}/",
        {"is_active": False, "event_types": ["payout.approved"]},
        content_type="application/json",
    )

    endpoint.refresh_from_db()
    assert response.status_code == 200
    assert endpoint.is_active is False
    assert endpoint.event_types == ["payout.approved"]
    assert endpoint.description == "Old"


def test_patch_rejects_private_url(staff_client, tenant):
    endpoint = endpoint_store(tenant, "https://hooks.example.com/a")

    response = staff_client.patch(
        f"{ENDPOINTS}{endpoint.pk}/", {"url": "http://127.0.0.1/"}, content_type="application/json"
    )

    endpoint.refresh_from_db()
    assert response.status_code == 400
    assert endpoint.url == "https://hooks.example.com/a"


def test_delete_removes_endpoint_and_deliveries(staff_client, tenant):
    delivery = _delivery(tenant)

    response = staff_client.delete(f"{ENDPOINTS}{delivery.endpoint_id}/")

    assert response.status_code == 204
    assert WebhookEndpoint.all_tenants.count() == 0
    assert WebhookDelivery.all_tenants.count() == 0


def test_rotate_returns_new_secret(staff_client, tenant):
    endpoint = endpoint_store(tenant, "https://hooks.example.com/a", secret="whsec_old")

    response = staff_client.post(f"{ENDPOINTS}{endpoint.pk}/rotate-secret/")

    endpoint.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["secret"] == endpoint.secret
    assert endpoint.secret != "whsec_old"


def test_test_sends_ping_now(staff_client, tenant, receiver):
    endpoint = endpoint_store(tenant, receiver.url())

    response = staff_client.post(f"{ENDPOINTS}{endpoint.pk}/test/")

    body = response.json()
    assert response.status_code == 200
    assert body["event_type"] == "ping"
    assert body["status"] == "succeeded"
    assert body["payload"]["endpoint_id"] == endpoint.pk
    assert [request.headers["Track360-Event"] for request in receiver.requests] == ["ping"]


def _delivery(tenant, status="dead"):
    from webhooks.models import WebhookEvent

    number = WebhookEndpoint.all_tenants.count()
    endpoint = endpoint_store(tenant, f"https://hooks.example.com/{status}/{number}")
    event = WebhookEvent.all_tenants.create(tenant=tenant, type="deal.scored", payload={"id": 1})
    return WebhookDelivery.all_tenants.create(
        tenant=tenant, event=event, endpoint=endpoint, status=status, attempts=8
    )


def test_delivery_list_filters(staff_client, tenant):
    dead = _delivery(tenant, "dead")
    succeeded = _delivery(tenant, "succeeded")

    by_status = staff_client.get(DELIVERIES, {"status": "dead"}).json()
    by_endpoint = staff_client.get(DELIVERIES, {"endpoint": succeeded.endpoint_id}).json()

    assert [row["id"] for row in by_status["results"]] == [dead.pk]
    assert [row["id"] for row in by_endpoint["results"]] == [succeeded.pk]
    assert by_status["results"][0]["delivery_id"] == str(dead.uuid)


def test_delivery_list_rejects_unknown_status(staff_client, tenant):
    response = staff_client.get(DELIVERIES, {"status": "lost"})

    assert response.status_code == 400


def test_delivery_list_queries_are_pinned(client, tenant):
    _, raw_key = api_key_create(tenant=tenant, name="tests")
    headers = auth(raw_key)
    for _ in range(3):
        _delivery(tenant, "failed")
    few = count_queries(client, DELIVERIES, headers)
    for _ in range(10):
        _delivery(tenant, "failed")

    assert count_queries(client, DELIVERIES, headers) == few


def test_replay_schedules_new_attempt(staff_client, tenant, monkeypatch):
    delivery = _delivery(tenant, "dead")

    response = staff_client.post(f"{DELIVERIES}{delivery.pk}/replay/")

    delivery.refresh_from_db()
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    assert delivery.status == "pending"
    assert delivery.next_attempt_at is not None


def test_analyst_reads_but_cannot_write(analyst_client, tenant):
    delivery = _delivery(tenant, "dead")

    assert analyst_client.get(ENDPOINTS).status_code == 200
    assert analyst_client.get(DELIVERIES).status_code == 200
    assert analyst_client.post(f"{DELIVERIES}{delivery.pk}/replay/").status_code == 403
    rotate = analyst_client.post(f"{ENDPOINTS}{delivery.endpoint_id}/rotate-secret/")
    assert rotate.status_code == 403
    assert analyst_client.delete(f"{ENDPOINTS}{delivery.endpoint_id}/").status_code == 403


def test_other_tenants_rows_are_not_listed(staff_client, other_tenant):
    _delivery(other_tenant, "dead")

    assert staff_client.get(ENDPOINTS).json()["count"] == 0
    assert staff_client.get(DELIVERIES).json()["count"] == 0


def test_service_create_generates_distinct_secrets(scoped, dns):
    first, first_secret = endpoint_create(
        tenant=scoped, url="https://a.example.com/", event_types=["deal.scored"]
    )
    second, second_secret = endpoint_create(
        tenant=scoped, url="https://b.example.com/", event_types=["deal.scored"]
    )

    assert first_secret != second_secret
    assert first.secret == first_secret


def test_delivery_log_page(staff_client, tenant):
    delivery = _delivery(tenant, "dead")

    response = staff_client.get("/webhooks/", {"status": "dead"})

    content = response.content.decode()
    assert response.status_code == 200
    assert str(delivery.event.uuid) in content
    assert f"/webhooks/deliveries/{delivery.pk}/replay/" in content


def test_delivery_log_page_replay(staff_client, tenant):
    delivery = _delivery(tenant, "dead")

    response = staff_client.post(
        f"/webhooks/deliveries/{delivery.pk}/replay/", {"next": "/webhooks/?status=dead"}
    )

    delivery.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == "/webhooks/?status=dead"
    assert delivery.status == "pending"
