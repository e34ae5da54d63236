import hashlib
import hmac
import json

from webhooks.delivery import deliveries_send
from webhooks.events import events_write
from webhooks.models import WebhookDelivery
from webhooks.signing import secret_generate, signature_header

from .conftest import endpoint_create


def test_signature_matches_independent_hmac():
    secret = "whsec_test"
    body = b'{"id":"e1","type":"ping"}'

    header = signature_header(secret=secret, timestamp=1700000000, body=body)

    expected = hmac.new(b"whsec_test", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_secrets_are_random_and_prefixed():
    first, second = secret_generate(), secret_generate()

    assert first.startswith("whsec_")
    assert len(first) >= 40
    assert first != second


def test_sent_request_verifies_with_secret(scoped, receiver):
    endpoint = endpoint_create(scoped, receiver.url(), event_types=["deal.scored"])
    (delivery_id,) = events_write(
        tenant_id=scoped.pk,
        event_type="deal.scored",
        payload={"id": 7, "amount": "12.50"},
        enqueue=False,
    )

    assert deliveries_send() == 1

    (request,) = receiver.requests
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    fields = dict(part.split("=", 1) for part in request.headers["Track360-Signature"].split(","))
    signed = fields["t"].encode() + b"." + request.body
    expected = hmac.new(endpoint.secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    assert request.headers["Track360-Event"] == "deal.scored"
    assert request.headers["Track360-Delivery"] == str(delivery.uuid)
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.body)
    assert body["id"] == str(delivery.event.uuid)
    assert body["type"] == "deal.scored"
    assert body["data"] == {"id": 7, "amount": "12.50"}
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.last_status_code == 200
    assert delivery.last_response_excerpt == "reply to /hook with 200"
