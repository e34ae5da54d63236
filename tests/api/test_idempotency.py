import datetime
import threading

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from crm.models import Deal
from tenancy.idempotency import KEY_TTL, idempotency_records_expire, request_fingerprint
from tenancy.models import IdempotencyRecord
from tenancy.scope import tenant_scope
from tenancy.services import api_key_create
from tests.api.conftest import auth
from tests.factories import AccountFactory

BULK_URL = "/api/v1/deals/bulk/"
SINGLE_URL = "/api/v1/deals/"


def deal_row(external_id: str, **fields) -> dict:
    return {
        "external_id": external_id,
        "stage": "open",
        "amount": "1000.00",
        "account_external_id": "acc-acme",
        **fields,
    }


BODY = {"mode": "atomic", "rows": [deal_row("d-1"), deal_row("d-2")]}


def post(client, headers, body=BODY, key="key-1", url=BULK_URL):
    return client.post(
        url, body, content_type="application/json", headers={**headers, "Idempotency-Key": key}
    )


@pytest.fixture
def acme(scoped):
    return AccountFactory(tenant=scoped, external_id="acc-acme", domain="acme.com")


def test_replay_returns_first_response(client, headers, acme):
    first = post(client, headers)
    Deal.objects.filter(external_id="d-1").update(amount="5.00")

    second = post(client, headers)

    assert first.status_code == 200
    assert second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    # The replay ran nothing: the changed amount stays.
    assert str(Deal.objects.get(external_id="d-1").amount) == "5.00"
    assert Deal.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 1


def test_replay_of_rejected_atomic_request(client, headers, acme):
    body = {"mode": "atomic", "rows": [deal_row("d-1", stage="maybe")]}
    first = post(client, headers, body)

    second = post(client, headers, body)

    assert first.status_code == 400
    assert second.status_code == 400
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"


def test_same_key_other_body_is_rejected(client, headers, acme):
    post(client, headers)
    other = {"mode": "atomic", "rows": [deal_row("d-3")]}

    response = post(client, headers, other)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "idempotency_key_reused"
    assert body["field"] == "Idempotency-Key"
    assert body["value"] == "key-1"
    assert body["fix"]
    assert not Deal.objects.filter(external_id="d-3").exists()


def test_same_key_other_endpoint_is_rejected(client, headers, acme):
    post(client, headers)

    response = post(client, headers, deal_row("d-1"), url=SINGLE_URL)

    assert response.status_code == 422


def test_key_order_of_body_does_not_matter(client, headers, acme):
    post(client, headers, {"mode": "atomic", "rows": [{"stage": "open", **deal_row("d-1")}]})

    response = post(client, headers, {"rows": [deal_row("d-1")], "mode": "atomic"})

    assert response.status_code == 200
    assert response.headers["Idempotent-Replayed"] == "true"


def test_key_in_progress_is_conflict(client, headers, acme):
    IdempotencyRecord.objects.create(
        tenant=acme.tenant,
        key="key-1",
        endpoint=f"POST {BULK_URL}",
        request_hash=request_fingerprint(method="POST", path=BULK_URL, data=BODY),
    )

    response = post(client, headers)

    assert response.status_code == 409
    assert "in progress" in response.json()["message"]
    assert Deal.objects.count() == 0


def test_abandoned_key_is_taken_over(client, headers, acme):
    record = IdempotencyRecord.objects.create(
        tenant=acme.tenant, key="key-1", endpoint=f"POST {BULK_URL}", request_hash="0" * 64
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=11)
    )

    response = post(client, headers)

    assert response.status_code == 200
    assert Deal.objects.count() == 2


def test_expired_key_runs_again(client, headers, acme):
    post(client, headers)
    IdempotencyRecord.objects.update(created_at=timezone.now() - KEY_TTL - datetime.timedelta(1))
    Deal.objects.filter(external_id="d-1").update(amount="5.00")

    response = post(client, headers)

    assert "Idempotent-Replayed" not in response.headers
    assert response.json()["results"][0]["status"] == "updated"


def test_error_raised_releases_key(client, headers, acme):
    invalid_envelope = {"mode": "sometimes", "rows": [deal_row("d-1")]}
    first = post(client, headers, invalid_envelope)

    second = post(client, headers)

    assert first.status_code == 400
    assert second.status_code == 200
    assert "Idempotent-Replayed" not in second.headers


def test_keys_are_per_tenant(client, headers, acme, other_tenant):
    with tenant_scope(other_tenant):
        AccountFactory(tenant=other_tenant, external_id="acc-acme", domain="acme.com")
    _, other_key = api_key_create(tenant=other_tenant, name="tests")
    post(client, headers)

    response = post(client, auth(other_key))

    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response.headers
    assert Deal.all_tenants.filter(tenant=other_tenant).count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "clé"], ids=["empty", "too-long", "non-ascii"])
def test_invalid_key(client, headers, acme, key):
    response = client.post(
        BULK_URL, BODY, content_type="application/json",
        headers={**headers, "Idempotency-Key": key.encode().decode("latin-1")},
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json()["field"] == "Idempotency-Key"
    assert Deal.objects.count() == 0


def test_single_deal_post_replays(client, headers, acme):
    first = post(client, headers, deal_row("d-1"), url=SINGLE_URL)

    second = post(client, headers, deal_row("d-1"), url=SINGLE_URL)

    assert first.status_code == 201
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"


def test_without_key_nothing_is_stored(client, headers, acme):
    response = client.post(BULK_URL, BODY, content_type="application/json", headers=headers)

    assert response.status_code == 200
    assert IdempotencyRecord.objects.count() == 0


def test_expire_deletes_old_records(tenant):
    with tenant_scope(tenant):
        old = IdempotencyRecord.objects.create(
            tenant=tenant, key="old", endpoint="POST /", request_hash="0" * 64
        )
        IdempotencyRecord.objects.create(
            tenant=tenant, key="new", endpoint="POST /", request_hash="0" * 64
        )
        IdempotencyRecord.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - KEY_TTL - datetime.timedelta(minutes=1)
        )

    deleted = idempotency_records_expire()

    assert deleted == 1
    assert list(IdempotencyRecord.all_tenants.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_write_once(tenant):
    with tenant_scope(tenant):
        AccountFactory(tenant=tenant, external_id="acc-acme", domain="acme.com")
    _, raw_key = api_key_create(tenant=tenant, name="tests")
    body = {"mode": "atomic", "rows": [deal_row(f"d-{index}") for index in range(500)]}
    barrier = threading.Barrier(2)
    responses = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            barrier.wait(timeout=10)
            responses.append(post(Client(), auth(raw_key), body, key="race"))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    originals = [r for r in responses if r.status_code == 200 and "Idempotent-Replayed" not in r]
    others = [r for r in responses if r not in originals]
    assert len(originals) == 1
    assert len(others) == 1
    assert others[0].status_code in (200, 409)
    if others[0].status_code == 200:
        assert others[0].headers["Idempotent-Replayed"] == "true"
        assert others[0].json() == originals[0].json()
    assert originals[0].json()["counts"]["created"] == 500
    assert Deal.all_tenants.filter(tenant=tenant).count() == 500
    assert IdempotencyRecord.all_tenants.filter(tenant=tenant).count() == 1
