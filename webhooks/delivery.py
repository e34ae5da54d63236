"""Sending webhook deliveries: claiming due ones, signing, POSTing and scheduling retries.

Workers claim due deliveries with `SELECT … FOR UPDATE SKIP LOCKED` and move
their `next_attempt_at` forward by `CLAIM_LEASE` in the same short transaction,
so no other worker sees them while the POST runs, and no row lock is held during
the request. A worker killed mid-send leaves the delivery to be claimed again
once the lease ends, so a receiver can get a delivery twice and should
deduplicate on the Track360-Delivery header.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from webhooks.models import WebhookDelivery
from webhooks.signing import signature_header
from webhooks.ssrf import SafeHTTPAdapter, UnsafeDestination, url_check

logger = logging.getLogger(__name__)

# Seconds to wait after failed attempt 1, 2 and so on. The attempt after the last
# delay is the final one, so a delivery is tried at most len(RETRY_DELAYS) + 1 times.
RETRY_DELAYS = (60, 300, 1800, 7200, 6 * 3600, 12 * 3600, 24 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# Each delay is stretched or shrunk by up to this share, so deliveries that failed
# together do not all retry in the same second.
JITTER = 0.1
# Seconds for connecting and, separately, for each read of the response.
REQUEST_TIMEOUT = 10
# How long a claimed delivery stays invisible to other workers, well above the
# 10 s connect and read timeouts of a normal request.
# NOTE: the read timeout applies to each socket read, so a receiver that sends its
# reply a few bytes at a time can outlast the lease, and another worker may then
# send the delivery again.
CLAIM_LEASE = timedelta(minutes=2)
CLAIM_BATCH_SIZE = 50
EXCERPT_BYTES = 2048
EXCERPT_LENGTH = 500
USER_AGENT = "Track360-Webhooks/1"
DUE_STATUSES = (WebhookDelivery.Status.PENDING, WebhookDelivery.Status.FAILED)


def retry_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta | None:
    """Return the wait before the next attempt after `attempts` failed ones, or None to stop."""
    if attempts >= MAX_ATTEMPTS:
        return None
    base = RETRY_DELAYS[attempts - 1]
    factor = 1 + (rng or random).uniform(-JITTER, JITTER)
    return timedelta(seconds=base * factor)


def deliveries_claim(*, limit: int = CLAIM_BATCH_SIZE, delivery_ids=None) -> list[int]:
    """Lock due deliveries that no other worker holds, lease them and return their ids."""
    now = timezone.now()
    with transaction.atomic():
        due = WebhookDelivery.all_tenants.select_for_update(skip_locked=True).filter(
            status__in=DUE_STATUSES, next_attempt_at__lte=now
        )
        if delivery_ids is not None:
            due = due.filter(pk__in=list(delivery_ids))
        ids = list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
        if ids:
            WebhookDelivery.all_tenants.filter(pk__in=ids).update(
                next_attempt_at=now + CLAIM_LEASE, updated_at=now
            )
    return ids


def request_body(delivery: WebhookDelivery) -> bytes:
    """Return the JSON body of a delivery: the event's id, type, time and data."""
    event = delivery.event
    document = {
        "id": str(event.uuid),
        "type": event.type,
        "created_at": event.created_at,
        "data": event.payload,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def http_session() -> requests.Session:
    """Return a session that connects only to checked public addresses and ignores proxies."""
    session = requests.Session()
    # Proxy variables would send the request through a host that skips the check.
    session.trust_env = False
    adapter = SafeHTTPAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _post(session: requests.Session, delivery: WebhookDelivery) -> AttemptResult:
    endpoint = delivery.endpoint
    body = request_body(delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Track360-Event": delivery.event.type,
        "Track360-Delivery": str(delivery.uuid),
        "Track360-Signature": signature_header(
            secret=endpoint.secret, timestamp=timestamp, body=body
        ),
    }
    try:
        url_check(endpoint.url)
        response = session.post(
            endpoint.url,
            data=body,
            headers=headers,
            timeout=REQUEST_TIMEOUT,
            allow_redirects=False,
            stream=True,
        )
    except UnsafeDestination as error:
        return AttemptResult(error=f"Rejected destination: {error}"[:EXCERPT_LENGTH])
    except requests.RequestException as error:
        return AttemptResult(error=f"{type(error).__name__}: {error}"[:EXCERPT_LENGTH])
    try:
        raw = response.raw.read(EXCERPT_BYTES, decode_content=True) or b""
    except (requests.RequestException, OSError, ValueError) as error:
        raw = f"(response body unreadable: {type(error).__name__})".encode()
    finally:
        response.close()
    excerpt = raw.decode("utf-8", errors="replace")[:EXCERPT_LENGTH]
    error = ""
    if not 200 <= response.status_code < 300:
        error = f"The endpoint returned HTTP {response.status_code}."
        if 300 <= response.status_code < 400:
            error += " Redirects are not followed; subscribe the final URL."
    return AttemptResult(status_code=response.status_code, excerpt=excerpt, error=error)


def delivery_attempt(
    *, delivery_id: int, session: requests.Session | None = None
) -> WebhookDelivery | None:
    """Send one claimed delivery and record the outcome; return it, or None when it is gone."""
    delivery = (
        WebhookDelivery.all_tenants.select_related("event", "endpoint")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        logger.info("webhooks.delivery_missing delivery_id=%s", delivery_id)
        return None
    now = timezone.now()
    if not delivery.endpoint.is_active:
        result = AttemptResult(error="The endpoint is inactive; activate it and replay.")
    else:
        result = _post(session or http_session(), delivery)

    attempts = delivery.attempts + 1
    delay = None if result.succeeded else retry_delay(attempts)
    if result.succeeded:
        status = WebhookDelivery.Status.SUCCEEDED
    elif delay is None or not delivery.endpoint.is_active:
        status = WebhookDelivery.Status.DEAD
    else:
        status = WebhookDelivery.Status.FAILED
    delivery.status = status
    delivery.attempts = attempts
    delivery.last_attempt_at = now
    delivery.last_status_code = result.status_code
    delivery.last_response_excerpt = result.excerpt
    delivery.last_error = result.error
    delivery.next_attempt_at = now + delay if status == WebhookDelivery.Status.FAILED else None
    if result.succeeded:
        delivery.succeeded_at = now
    delivery.save(
        update_fields=[
            "status",
            "attempts",
            "last_attempt_at",
            "last_status_code",
            "last_response_excerpt",
            "last_error",
            "next_attempt_at",
            "succeeded_at",
            "updated_at",
        ]
    )
    log = logger.info if result.succeeded else logger.warning
    log(
        "webhooks.delivery_attempted tenant_id=%s delivery_id=%s endpoint_id=%s type=%s "
        "attempt=%s status=%s http_status=%s error=%s",
        delivery.tenant_id,
        delivery.pk,
        delivery.endpoint_id,
        delivery.event.type,
        attempts,
        status,
        result.status_code,
        result.error[:120],
    )
    return delivery


def deliveries_send(
    *, delivery_ids=None, max_batches: int | None = None, batch_size: int = CLAIM_BATCH_SIZE
) -> int:
    """Claim and send due deliveries (all, or only `delivery_ids`); return how many were sent."""
    sent = 0
    batches = 0
    session = http_session()
    try:
        while max_batches is None or batches < max_batches:
            ids = deliveries_claim(delivery_ids=delivery_ids, limit=batch_size)
            if not ids:
                break
            batches += 1
            for delivery_id in ids:
                delivery_attempt(delivery_id=delivery_id, session=session)
                sent += 1
    finally:
        session.close()
    return sent
