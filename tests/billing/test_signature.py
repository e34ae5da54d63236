"""Stripe signature verification, as a function and at the webhook URL."""

from __future__ import annotations

import datetime
import json
import time

import pytest
from django.utils import timezone

from billing.connections import billing_connection_deactivate, billing_connection_rotate
from billing.models import BillingEvent
from billing.providers import SignatureInvalid
from billing.providers.stripe import TOLERANCE_SECONDS, signature_compute, signature_verify
from tenancy.scope import tenant_scope
from tests.billing.conftest import SECRET, deliver, payload, signed_headers, webhook_url

BODY = b'{"id": "evt_1", "type": "customer.created"}'
NOW = 1_717_000_000


def header(*signatures: str, timestamp: int = NOW) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={signature}" for signature in signatures)])


def valid_signature(body: bytes = BODY, timestamp: int = NOW, secret: str = SECRET) -> str:
    return signature_compute(secret=secret, timestamp=str(timestamp), body=body)


def test_signature_computed_as_stripe_documents():
    # HMAC-SHA256 of "<t>.<body>" with the secret as key, in lowercase hex.
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert valid_signature() == expected
    assert len(expected) == 64


def test_valid_signature_returns_timestamp():
    signed_at = signature_verify(
        header=header(valid_signature()), body=BODY, secrets=[SECRET], now=NOW + 10
    )

    assert signed_at == NOW


@pytest.mark.parametrize(
    "raw_header",
    [
        pytest.param("", id="missing"),
        pytest.param("garbage", id="no-pairs"),
        pytest.param(f"v1={'0' * 64}", id="no-timestamp"),
        pytest.param(f"t={NOW}", id="no-v1"),
        pytest.param(f"t=soon,v1={'0' * 64}", id="timestamp-not-a-number"),
        pytest.param(f"t={NOW},v0={'0' * 64}", id="only-v0-scheme"),
    ],
)
def test_malformed_header_is_rejected(raw_header):
    with pytest.raises(SignatureInvalid) as error:
        signature_verify(header=raw_header, body=BODY, secrets=[SECRET], now=NOW)

    assert error.value.field == "Stripe-Signature"
    assert error.value.status_code == 400


def test_wrong_signature_is_rejected():
    with pytest.raises(SignatureInvalid, match="No v1 signature"):
        signature_verify(header=header("0" * 64), body=BODY, secrets=[SECRET], now=NOW)


def test_tampered_body_is_rejected():
    tampered = BODY.replace(b"evt_1", b"evt_2")

    with pytest.raises(SignatureInvalid, match="No v1 signature"):
        signature_verify(header=header(valid_signature()), body=tampered, secrets=[SECRET], now=NOW)


def test_signature_of_other_secret_is_rejected():
    signature = valid_signature(secret="whsec_someone_else_000000")

    with pytest.raises(SignatureInvalid):
        signature_verify(header=header(signature), body=BODY, secrets=[SECRET], now=NOW)


def test_one_matching_v1_among_several_is_enough():
    signatures = ("f" * 64, valid_signature(), "0" * 64)

    assert signature_verify(header=header(*signatures), body=BODY, secrets=[SECRET], now=NOW)


def test_any_accepted_secret_matches():
    signature = valid_signature(secret="whsec_previous_secret_0000")

    signed_at = signature_verify(
        header=header(signature),
        body=BODY,
        secrets=[SECRET, "whsec_previous_secret_0000"],
        now=NOW,
    )

    assert signed_at == NOW


def test_timestamp_at_tolerance_passes():
    now = NOW + TOLERANCE_SECONDS

    assert signature_verify(header=header(valid_signature()), body=BODY, secrets=[SECRET], now=now)


def test_timestamp_past_tolerance_is_rejected_despite_valid_signature():
    now = NOW + TOLERANCE_SECONDS + 1

    with pytest.raises(SignatureInvalid, match="301 seconds old"):
        signature_verify(header=header(valid_signature()), body=BODY, secrets=[SECRET], now=now)


# At the webhook URL.


def test_webhook_stores_signed_event(client, connection, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, connection, payload("customer_created"))

    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False, "status": "received"}
    with tenant_scope(connection.tenant):
        event = BillingEvent.objects.get()
        connection.refresh_from_db()
    assert event.event_id == "evt_1Track360Customer0007"
    assert event.status == BillingEvent.Status.IGNORED
    assert connection.last_event_at is not None


@pytest.mark.parametrize(
    "make_headers",
    [
        pytest.param(lambda body: {}, id="missing"),
        pytest.param(
            lambda body: signed_headers(body, secret="whsec_wrong_secret_000"), id="wrong"
        ),
        pytest.param(
            lambda body: signed_headers(body, timestamp=int(time.time()) - TOLERANCE_SECONDS - 60),
            id="expired",
        ),
        pytest.param(lambda body: signed_headers(body + b" "), id="tampered-body"),
    ],
)
def test_webhook_rejects_bad_signature_and_stores_nothing(client, connection, make_headers):
    body = json.dumps(payload("customer_created")).encode()

    response = client.post(
        webhook_url(connection), body, content_type="application/json", headers=make_headers(body)
    )

    assert response.status_code == 400
    assert response.json()["code"] == "signature_invalid"
    assert response.json()["field"] == "Stripe-Signature"
    assert not BillingEvent.all_tenants.exists()


@pytest.mark.parametrize(
    "body", [b"[1, 2, 3]", b"not json", b"[" * 100_000], ids=["list", "text", "deep"]
)
def test_webhook_rejects_signed_body_that_is_not_an_event(client, connection, body):
    response = client.post(
        webhook_url(connection), body, content_type="application/json", headers=signed_headers(body)
    )

    assert response.status_code == 400
    assert response.json()["code"] == "event_invalid"
    assert response.json()["field"] == "body"
    assert not BillingEvent.all_tenants.exists()


def test_webhook_unknown_token_is_404(client, connection):
    connection.token = "not-a-token"

    response = deliver(client, connection, payload("customer_created"))

    assert response.status_code == 404


def test_webhook_unknown_provider_is_404(client, connection):
    connection.provider = "paddle"

    response = deliver(client, connection, payload("customer_created"))

    assert response.status_code == 404


def test_webhook_of_deactivated_connection_is_404(client, connection):
    with tenant_scope(connection.tenant):
        billing_connection_deactivate(connection_id=connection.pk)

    response = deliver(client, connection, payload("customer_created"))

    assert response.status_code == 404
    assert not BillingEvent.all_tenants.exists()


def test_webhook_get_is_405(client, connection):
    assert client.get(webhook_url(connection)).status_code == 405


def test_rotation_keeps_previous_secret_for_the_window(client, connection):
    new_secret = "whsec_track360rotatedsecret00003"
    with tenant_scope(connection.tenant):
        billing_connection_rotate(
            connection_id=connection.pk, signing_secret=new_secret, keep_previous_hours=2
        )
    event = payload("customer_created")

    old = deliver(client, connection, event, secret=SECRET)
    new = deliver(client, connection, {**event, "id": "evt_other"}, secret=new_secret)

    assert old.status_code == 200
    assert new.status_code == 200


def test_rotation_without_window_drops_previous_secret(client, connection):
    with tenant_scope(connection.tenant):
        billing_connection_rotate(
            connection_id=connection.pk, signing_secret="whsec_track360rotatedsecret00003"
        )

    response = deliver(client, connection, payload("customer_created"), secret=SECRET)

    assert response.status_code == 400


def test_previous_secret_expires(client, connection):
    with tenant_scope(connection.tenant):
        billing_connection_rotate(
            connection_id=connection.pk,
            signing_secret="whsec_track360rotatedsecret00003",
            keep_previous_hours=1,
        )
        connection.refresh_from_db()
        connection.previous_secret_expires_at = timezone.now() - datetime.timedelta(seconds=1)
        connection.save()

    response = deliver(client, connection, payload("customer_created"), secret=SECRET)

    assert response.status_code == 400


def test_webhook_body_over_the_limit_is_json_400(client, connection, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({**payload("customer_created"), "pad": "x" * 2000}).encode()

    response = client.post(
        webhook_url(connection), body, content_type="application/json", headers=signed_headers(body)
    )

    assert response.status_code == 400
    assert response.json()["code"] == "too_large"
    assert not BillingEvent.all_tenants.exists()
