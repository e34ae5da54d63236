import random
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tenancy.scope import tenant_scope
from webhooks.delivery import (
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    deliveries_claim,
    deliveries_send,
    retry_delay,
)
from webhooks.events import events_write
from webhooks.models import WebhookDelivery
from webhooks.services import delivery_replay
from webhooks.tasks import send_webhook_deliveries_task

from .conftest import endpoint_create


def _delivery(tenant, url, **payload):
    endpoint_create(tenant, url)
    (delivery_id,) = events_write(
        tenant_id=tenant.pk, event_type="deal.scored", payload={"id": 1, **payload}, enqueue=False
    )
    return delivery_id


def _make_due(delivery_id):
    WebhookDelivery.all_tenants.filter(pk=delivery_id).update(next_attempt_at=timezone.now())


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(1, 60), (2, 300), (3, 1800), (4, 7200), (5, 21600), (6, 43200), (7, 86400)],
)
def test_retry_delay_follows_schedule(attempts, seconds):
    delay = retry_delay(attempts, rng=random.Random(attempts))

    assert seconds * 0.9 <= delay.total_seconds() <= seconds * 1.1


def test_retry_delay_jitters():
    delays = {retry_delay(1, rng=random.Random(seed)).total_seconds() for seed in range(20)}

    assert len(delays) > 10


def test_retry_delay_stops_at_max_attempts():
    assert MAX_ATTEMPTS == len(RETRY_DELAYS) + 1 == 8
    assert retry_delay(MAX_ATTEMPTS) is None


def test_error_response_schedules_retry(scoped, receiver):
    receiver.statuses["/hook"] = 500
    delivery_id = _delivery(scoped, receiver.url())
    before = timezone.now()

    deliveries_send()

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert delivery.last_error == "The endpoint returned HTTP 500."
    assert before + timedelta(seconds=54) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= timezone.now() + timedelta(seconds=66)


def test_failed_delivery_is_not_resent_before_due(scoped, receiver):
    receiver.statuses["/hook"] = 503
    _delivery(scoped, receiver.url())

    deliveries_send()
    deliveries_send()

    assert len(receiver.requests) == 1


def test_dead_after_max_attempts(scoped, receiver):
    receiver.statuses["/hook"] = 500
    delivery_id = _delivery(scoped, receiver.url())

    for _ in range(MAX_ATTEMPTS):
        _make_due(delivery_id)
        deliveries_send()

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert len(receiver.requests) == MAX_ATTEMPTS
    assert delivery.status == WebhookDelivery.Status.DEAD
    assert delivery.attempts == MAX_ATTEMPTS
    assert delivery.next_attempt_at is None
    _make_due(delivery_id)
    assert deliveries_send() == 0


def test_redirect_is_not_followed(scoped, receiver):
    receiver.statuses["/hook"] = 302
    receiver.location["/hook"] = receiver.url("/elsewhere")
    delivery_id = _delivery(scoped, receiver.url())

    deliveries_send()

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert [request.path for request in receiver.requests] == ["/hook"]
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.last_status_code == 302
    assert "Redirects are not followed" in delivery.last_error


def test_connection_refused_is_recorded(scoped, settings):
    settings.TRACK360_WEBHOOKS_ALLOW_PRIVATE = True
    # Port 9 on loopback has no listener here, so the connection is refused.
    delivery_id = _delivery(scoped, "http://127.0.0.1:9/hook")

    deliveries_send()

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.last_status_code is None
    assert "ConnectionError" in delivery.last_error


def test_inactive_endpoint_delivery_is_dead(scoped, receiver):
    delivery_id = _delivery(scoped, receiver.url())
    WebhookDelivery.objects.get(pk=delivery_id).endpoint.__class__.all_tenants.update(
        is_active=False
    )

    deliveries_send()

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert receiver.requests == []
    assert delivery.status == WebhookDelivery.Status.DEAD
    assert "inactive" in delivery.last_error


def test_claim_leases_delivery(scoped, receiver):
    delivery_id = _delivery(scoped, receiver.url())

    first = deliveries_claim()
    second = deliveries_claim()

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert first == [delivery_id]
    assert second == []
    assert delivery.next_attempt_at > timezone.now() + CLAIM_LEASE - timedelta(seconds=5)


def test_replay_sends_dead_delivery_again(scoped, receiver, django_capture_on_commit_callbacks):
    receiver.statuses["/hook"] = 500
    delivery_id = _delivery(scoped, receiver.url())
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        status=WebhookDelivery.Status.DEAD, attempts=MAX_ATTEMPTS, next_attempt_at=None
    )
    receiver.statuses["/hook"] = 204

    with django_capture_on_commit_callbacks(execute=True):
        delivery_replay(tenant=scoped, delivery_id=delivery_id)

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert len(receiver.requests) == 1
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.attempts == MAX_ATTEMPTS + 1
    assert delivery.succeeded_at is not None


def test_beat_task_sends_due_deliveries(scoped, receiver):
    _delivery(scoped, receiver.url())

    assert send_webhook_deliveries_task.delay().get() == 1

    assert len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_send_each_delivery_once(receiver):
    from tests.factories import TenantFactory

    tenant = TenantFactory(slug="concurrent")
    receiver.delay_seconds = 0.02
    endpoint_create(tenant, receiver.url())
    with tenant_scope(tenant):
        delivery_ids = events_write(
            tenant_id=tenant.pk,
            event_type="deal.scored",
            payload=[{"id": number} for number in range(30)],
            enqueue=False,
        )
    barrier = threading.Barrier(2)
    counts = []

    def worker():
        barrier.wait()
        try:
            counts.append(deliveries_send(batch_size=3))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    sent = [request.headers["Track360-Delivery"] for request in receiver.requests]
    assert len(delivery_ids) == 30
    assert sum(counts) == 30
    assert len(sent) == 30
    assert len(set(sent)) == 30
    assert all(count > 0 for count in counts)
    assert WebhookDelivery.all_tenants.filter(status="succeeded").count() == 30


@pytest.mark.django_db(transaction=True)
def test_claim_skips_rows_another_worker_locked(receiver):
    from tests.factories import TenantFactory

    tenant = TenantFactory(slug="locked")
    endpoint_create(tenant, receiver.url())
    with tenant_scope(tenant):
        first_id, second_id = events_write(
            tenant_id=tenant.pk,
            event_type="deal.scored",
            payload=[{"id": 1}, {"id": 2}],
            enqueue=False,
        )
    locked = threading.Event()
    release = threading.Event()

    def holder():
        try:
            with transaction.atomic():
                WebhookDelivery.all_tenants.select_for_update().get(pk=first_id)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert locked.wait(timeout=10)
        claimed = deliveries_claim()
    finally:
        release.set()
        thread.join(timeout=30)

    assert claimed == [second_id]
