"""Webhook endpoint pages: create with a one-time secret, edit, rotate, delete and test."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tenancy.models import AuditEvent, Membership
from tests.factories import MembershipFactory, UserFactory
from webhooks import ssrf
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

from .conftest import endpoint_create as endpoint_store

CREATE = reverse("webhooks:endpoint_create")
LIST = reverse("webhooks:delivery_list")


def _url(name, endpoint):
    return reverse(f"webhooks:{name}", kwargs={"pk": endpoint.pk})


@pytest.fixture
def dns(monkeypatch):
    """Resolve every host name to a public address without asking a DNS server."""
    monkeypatch.setattr(ssrf, "resolve_host", lambda host, port: ["93.184.215.14"])


@pytest.fixture
def endpoint(tenant):
    return endpoint_store(tenant, "https://hooks.acme.example/in", description="ERP sync")


@pytest.fixture
def manager_client(client, tenant):
    user = UserFactory(username="manager-acme")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER_MANAGER)
    client.force_login(user)
    return client


def test_create_shows_secret_once(staff_client, tenant, dns):
    response = staff_client.post(
        CREATE,
        {
            "url": "https://hooks.acme.example/in",
            "event_types": ["deal.scored", "payout.approved"],
            "description": "ERP sync",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    endpoint = WebhookEndpoint.all_tenants.get(tenant=tenant)
    assert endpoint.event_types == ["deal.scored", "payout.approved"]
    assert endpoint.description == "ERP sync"
    assert endpoint.is_active
    assert endpoint.secret in response.content.decode()
    assert "shown only on this page" in response.content.decode()
    assert AuditEvent.all_tenants.filter(event="webhook_endpoint.created").count() == 1
    detail = staff_client.get(_url("endpoint_detail", endpoint))
    assert endpoint.secret not in detail.content.decode()
    assert endpoint.secret not in staff_client.get(LIST).content.decode()


def test_create_private_url_errors_at_url(staff_client, tenant):
    response = staff_client.post(
        CREATE, {"url": "http://127.0.0.1:8000/hook", "event_types": ["deal.scored"]}
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["url"]
    assert "127.0.0.1 is a loopback address" in errors["url"][0]
    assert 'id="id_url_error"' in response.content.decode()
    assert not WebhookEndpoint.all_tenants.filter(tenant=tenant).exists()


def test_create_needs_an_event(staff_client, tenant, dns):
    response = staff_client.post(CREATE, {"url": "https://hooks.acme.example/in"})

    assert response.status_code == 400
    assert response.context["form"].errors["event_types"] == [
        "Choose at least one event to send to this endpoint."
    ]
    assert 'id="id_event_types_error"' in response.content.decode()


def test_create_same_url_errors_at_url(staff_client, endpoint, dns):
    response = staff_client.post(CREATE, {"url": endpoint.url, "event_types": ["deal.scored"]})

    assert response.status_code == 409
    message = response.context["form"].errors["url"][0]
    assert message.startswith("The tenant already has an endpoint with this url.")
    assert "PATCH" not in message


def test_edit_changes_events_and_active(staff_client, endpoint, dns):
    response = staff_client.post(
        _url("endpoint_detail", endpoint),
        {
            "url": endpoint.url,
            "event_types": ["commission.created"],
            "description": "Finance",
        },
    )

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.event_types == ["commission.created"]
    assert endpoint.description == "Finance"
    assert not endpoint.is_active
    event = AuditEvent.all_tenants.get(event="webhook_endpoint.updated")
    assert event.before["is_active"] is True
    assert event.after["is_active"] is False


def test_edit_private_url_errors_at_url(staff_client, endpoint):
    response = staff_client.post(
        _url("endpoint_detail", endpoint),
        {"url": "http://10.0.0.5/hook", "event_types": ["deal.scored"], "is_active": "on"},
    )

    assert response.status_code == 400
    assert "10.0.0.5 is a private address" in response.context["form"].errors["url"][0]
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.acme.example/in"


def test_rotate_confirms_then_shows_secret(staff_client, endpoint):
    old_secret = endpoint.secret

    confirm = staff_client.get(_url("endpoint_rotate_secret", endpoint))
    endpoint.refresh_from_db()
    assert confirm.status_code == 200
    assert endpoint.secret == old_secret
    assert "Rotate the signing secret" in confirm.content.decode()

    response = staff_client.post(_url("endpoint_rotate_secret", endpoint))

    endpoint.refresh_from_db()
    assert response.status_code == 200
    assert endpoint.secret != old_secret
    assert endpoint.secret in response.content.decode()
    assert AuditEvent.all_tenants.filter(event="webhook_endpoint.secret_rotated").count() == 1


def test_delete_confirmation_counts_unsent(staff_client, tenant, endpoint):
    event = WebhookEvent.all_tenants.create(tenant=tenant, type="ping", payload={})
    WebhookDelivery.all_tenants.create(tenant=tenant, event=event, endpoint=endpoint)

    confirm = staff_client.get(_url("endpoint_delete", endpoint))

    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert "1 delivery is still waiting to be sent or retried" in body
    assert "never sent" in body
    assert WebhookEndpoint.all_tenants.filter(pk=endpoint.pk).exists()


def test_delete_removes_endpoint(staff_client, tenant, endpoint):
    response = staff_client.post(_url("endpoint_delete", endpoint))

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not WebhookEndpoint.all_tenants.filter(pk=endpoint.pk).exists()
    assert AuditEvent.all_tenants.filter(event="webhook_endpoint.deleted").count() == 1


def test_test_event_reaches_receiver(staff_client, tenant, receiver):
    endpoint = endpoint_store(tenant, receiver.url("/hook"))

    response = staff_client.post(_url("endpoint_test", endpoint), follow=True)

    assert response.status_code == 200
    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["Track360-Event"] == "ping"
    delivery = WebhookDelivery.all_tenants.get(endpoint=endpoint)
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert "it answered HTTP 200" in response.content.decode()


def test_test_event_failure_is_reported(staff_client, tenant, receiver):
    receiver.statuses["/down"] = 503
    endpoint = endpoint_store(tenant, receiver.url("/down"))

    response = staff_client.post(_url("endpoint_test", endpoint), follow=True)

    body = response.content.decode()
    assert "failed: The endpoint returned HTTP 503." in body
    delivery = WebhookDelivery.all_tenants.get(endpoint=endpoint)
    assert delivery.status == WebhookDelivery.Status.FAILED


def test_manager_reads_endpoint(manager_client, endpoint):
    listing = manager_client.get(LIST)
    detail = manager_client.get(_url("endpoint_detail", endpoint))

    assert listing.status_code == 200
    assert "New endpoint" not in listing.content.decode()
    assert detail.status_code == 200
    assert "Only admins can change" in detail.content.decode()
    assert "Rotate secret" not in detail.content.decode()


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "endpoint_create"),
        ("post", "endpoint_create"),
        ("post", "endpoint_detail"),
        ("get", "endpoint_rotate_secret"),
        ("post", "endpoint_rotate_secret"),
        ("get", "endpoint_delete"),
        ("post", "endpoint_delete"),
        ("post", "endpoint_test"),
    ],
)
def test_manager_cannot_change(manager_client, endpoint, method, name):
    kwargs = {} if name == "endpoint_create" else {"pk": endpoint.pk}
    secret = endpoint.secret

    response = getattr(manager_client, method)(
        reverse(f"webhooks:{name}", kwargs=kwargs),
        {"url": "https://other.example/in", "event_types": ["deal.scored"]},
    )

    assert response.status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.secret == secret
    assert endpoint.url == "https://hooks.acme.example/in"
    assert WebhookDelivery.all_tenants.count() == 0


def test_create_shows_url_and_event_errors(staff_client, tenant):
    response = staff_client.post(CREATE, {"url": "http://10.0.0.5/hook"})

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "10.0.0.5 is a private address" in errors["url"][0]
    assert "Choose at least one event" in errors["event_types"][0]
    assert not WebhookEndpoint.all_tenants.filter(tenant=tenant).exists()
