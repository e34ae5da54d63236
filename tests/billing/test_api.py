"""The billing connection API and the billing page: roles, secrets and tenants."""

from __future__ import annotations

import pytest

from billing.models import BillingConnection, BillingEvent
from tenancy.models import AuditEvent, Membership
from tenancy.scope import tenant_scope
from tenancy.services import api_key_create
from tests.billing.conftest import SECRET, deliver, payload
from tests.factories import MembershipFactory, UserFactory

LIST_URL = "/api/v1/billing/connections/"
NEW_SECRET = "whsec_track360newsecret0000000009"


def member_client(client, tenant, role: str):
    user = UserFactory(username=f"{role}-billing")
    MembershipFactory(tenant=tenant, user=user, role=role)
    client.force_login(user)
    return client


@pytest.fixture
def key_headers(tenant) -> dict:
    _, raw_key = api_key_create(tenant=tenant, name="billing-tests")
    return {"Authorization": f"Api-Key {raw_key}"}


def test_create_returns_url_and_never_the_secret(client, tenant, key_headers):
    response = client.post(
        LIST_URL,
        {"provider": "stripe", "name": "Stripe live", "signing_secret": SECRET},
        content_type="application/json",
        headers=key_headers,
    )

    assert response.status_code == 201
    body = response.json()
    assert SECRET not in response.content.decode()
    assert "signing_secret" not in body
    with tenant_scope(tenant):
        connection = BillingConnection.objects.get()
        audit = AuditEvent.objects.get(event="billing_connection.created")
    assert body["webhook_url"] == f"http://testserver/billing/stripe/{connection.token}/"
    assert body["is_active"] is True
    assert connection.signing_secret == SECRET
    assert SECRET not in str(audit.after)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param(
            {"signing_secret": "sk_live_not_a_webhook_secret"}, "signing_secret", id="key"
        ),
        pytest.param({"signing_secret": "whsec_"}, "signing_secret", id="short"),
        pytest.param({"provider": "paddle"}, "provider", id="provider"),
        pytest.param({"name": "   "}, "name", id="blank-name"),
    ],
)
def test_create_rejects_bad_fields(client, key_headers, changes, field):
    body = {"provider": "stripe", "name": "Stripe live", "signing_secret": SECRET, **changes}

    response = client.post(LIST_URL, body, content_type="application/json", headers=key_headers)

    assert response.status_code == 400
    text = response.content.decode()
    assert field in text
    assert "sk_live_not_a_webhook_secret" not in text
    assert not BillingConnection.all_tenants.exists()


def test_create_same_name_is_409(client, connection, key_headers):
    body = {"provider": "stripe", "name": "Stripe live", "signing_secret": SECRET}

    response = client.post(LIST_URL, body, content_type="application/json", headers=key_headers)

    assert response.status_code == 409
    assert response.json()["field"] == "name"


def test_list_shows_only_own_connections(client, connection, other_connection, key_headers):
    response = client.get(LIST_URL, headers=key_headers)

    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["id"] == connection.pk
    assert SECRET not in response.content.decode()


def test_rotate_then_old_secret_fails(client, connection, key_headers):
    url = f"{LIST_URL}{connection.pk}/rotate/"

    response = client.post(
        url, {"signing_secret": NEW_SECRET}, content_type="application/json", headers=key_headers
    )

    assert response.status_code == 200
    assert NEW_SECRET not in response.content.decode()
    assert response.json()["secret_rotated_at"] is not None
    assert deliver(client, connection, payload("customer_created")).status_code == 400
    fresh = deliver(client, connection, payload("customer_created"), secret=NEW_SECRET)
    assert fresh.status_code == 200


def test_rotate_rejects_window_over_a_day(client, connection, key_headers):
    response = client.post(
        f"{LIST_URL}{connection.pk}/rotate/",
        {"signing_secret": NEW_SECRET, "keep_previous_hours": 25},
        content_type="application/json",
        headers=key_headers,
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "keep_previous_hours"


def test_deactivate_closes_the_url(client, connection, key_headers):
    response = client.post(f"{LIST_URL}{connection.pk}/deactivate/", headers=key_headers)

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert deliver(client, connection, payload("customer_created")).status_code == 404


def test_analyst_reads_but_cannot_write(client, tenant, connection):
    analyst = member_client(client, tenant, Membership.Role.ANALYST)

    listed = analyst.get(LIST_URL)
    rotated = analyst.post(
        f"{LIST_URL}{connection.pk}/rotate/",
        {"signing_secret": NEW_SECRET},
        content_type="application/json",
    )

    assert listed.status_code == 200
    assert rotated.status_code == 403


def test_partner_manager_creates(client, tenant):
    manager = member_client(client, tenant, Membership.Role.PARTNER_MANAGER)

    response = manager.post(
        LIST_URL,
        {"provider": "stripe", "name": "Stripe test", "signing_secret": SECRET},
        content_type="application/json",
    )

    assert response.status_code == 201


def test_anonymous_is_rejected(client, connection):
    assert client.get(LIST_URL).status_code in (401, 403)


def test_events_list_filters_by_status(client, connection, key_headers):
    deliver(client, connection, payload("customer_created"))
    with tenant_scope(connection.tenant):
        BillingEvent.objects.update(status=BillingEvent.Status.IGNORED)

    ignored = client.get("/api/v1/billing/events/?status=ignored", headers=key_headers)
    failed = client.get("/api/v1/billing/events/?status=failed", headers=key_headers)
    invalid = client.get("/api/v1/billing/events/?status=nope", headers=key_headers)

    assert [row["event_id"] for row in ignored.json()["results"]] == ["evt_1Track360Customer0007"]
    assert failed.json()["results"] == []
    assert invalid.status_code == 400
    assert "payload" not in ignored.json()["results"][0]


# The billing page.


def test_page_lists_connection_url_and_events(client, tenant, connection):
    deliver(client, connection, payload("customer_created"))
    manager = member_client(client, tenant, Membership.Role.PARTNER_MANAGER)

    response = manager.get("/billing/")

    page = response.content.decode()
    assert response.status_code == 200
    assert f"/billing/stripe/{connection.token}/" in page
    assert "evt_1Track360Customer0007" in page
    assert SECRET not in page


def test_page_creates_connection(client, tenant):
    admin = member_client(client, tenant, Membership.Role.ADMIN)

    response = admin.post(
        "/billing/connections/",
        {"name": "Stripe live", "provider": "stripe", "signing_secret": SECRET},
    )

    assert response.status_code == 302
    with tenant_scope(tenant):
        assert BillingConnection.objects.get().name == "Stripe live"


def test_page_rejects_bad_secret_without_echo(client, tenant):
    admin = member_client(client, tenant, Membership.Role.ADMIN)

    response = admin.post(
        "/billing/connections/",
        {"name": "Stripe live", "provider": "stripe", "signing_secret": "sk_live_secretvalue123"},
    )

    assert response.status_code == 400
    assert "sk_live_secretvalue123" not in response.content.decode()
    assert "whsec_" in response.content.decode()


def test_page_analyst_cannot_deactivate(client, tenant, connection):
    analyst = member_client(client, tenant, Membership.Role.ANALYST)

    response = analyst.post(f"/billing/connections/{connection.pk}/deactivate/")

    assert response.status_code == 403
    with tenant_scope(tenant):
        connection.refresh_from_db()
    assert connection.is_active is True


def test_retry_endpoint_requeues_unmatched_event(client, connection, key_headers):
    deliver(client, connection, payload("customer_created"))
    with tenant_scope(connection.tenant):
        event = BillingEvent.objects.get()
        BillingEvent.objects.update(status=BillingEvent.Status.UNMATCHED, error="no account")

    response = client.post(f"/api/v1/billing/events/{event.pk}/retry/", headers=key_headers)
    again = client.post(f"/api/v1/billing/events/{event.pk}/retry/", headers=key_headers)

    assert response.status_code == 200
    assert response.json()["status"] == "received"
    assert response.json()["error"] == ""
    assert again.status_code == 409


def test_page_retry_requeues_event(client, tenant, connection, django_capture_on_commit_callbacks):
    deliver(client, connection, payload("customer_created"))
    with tenant_scope(tenant):
        event = BillingEvent.objects.get()
        BillingEvent.objects.update(status=BillingEvent.Status.FAILED, error="boom")
    manager = member_client(client, tenant, Membership.Role.PARTNER_MANAGER)

    listed = manager.get("/billing/")
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(f"/billing/events/{event.pk}/retry/")

    assert f"/billing/events/{event.pk}/retry/" in listed.content.decode()
    assert response.status_code == 302
    with tenant_scope(tenant):
        event.refresh_from_db()
    # The eager task ran on commit and processed the event again.
    assert event.status == BillingEvent.Status.IGNORED
