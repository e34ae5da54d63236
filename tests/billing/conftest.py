"""Fixtures for billing webhooks: a Stripe connection, signed requests and event payloads."""

from __future__ import annotations

import json
import pathlib
import time

import pytest
from django.urls import reverse

from billing.connections import billing_connection_create
from billing.providers.stripe import signature_compute

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
SECRET = "whsec_track360testsecret0000000001"
OTHER_SECRET = "whsec_track360othersecret000000002"


def payload(name: str) -> dict:
    """Return a fresh copy of the Stripe event stored in fixtures/<name>.json."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def signed_headers(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = signature_compute(secret=secret, timestamp=str(timestamp), body=body)
    return {"Stripe-Signature": f"t={timestamp},v1={signature}"}


def webhook_url(connection) -> str:
    return reverse(
        "billing_webhook", kwargs={"provider": connection.provider, "token": connection.token}
    )


def deliver(client, connection, event: dict, *, secret: str = SECRET, headers=None):
    """POST `event` to the connection's URL as Stripe would, signed now with `secret`."""
    body = json.dumps(event).encode()
    return client.post(
        webhook_url(connection),
        body,
        content_type="application/json",
        headers=headers if headers is not None else signed_headers(body, secret=secret),
    )


@pytest.fixture
def connection(tenant):
    return billing_connection_create(
        tenant=tenant, provider="stripe", name="Stripe live", signing_secret=SECRET
    )


@pytest.fixture
def other_connection(other_tenant):
    return billing_connection_create(
        tenant=other_tenant, provider="stripe", name="Stripe live", signing_secret=OTHER_SECRET
    )
