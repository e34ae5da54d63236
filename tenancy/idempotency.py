"""Idempotency-Key support for write endpoints: a retried request gets the first response.

A client that may retry a POST sends a key of its choice in the `Idempotency-Key`
header. The first request with that key runs and its response (status and body)
is stored for the tenant. A later request with the same key and the same method,
path and JSON body gets the stored response back with `Idempotent-Replayed: true`
and runs nothing. The same key with another body or endpoint is rejected with 422,
and a request whose key is still in use by a running request gets 409.

The row is inserted and committed before the request runs, so the unique
(tenant, key) index makes exactly one of two simultaneous requests the owner.
The owner's writes and its stored response commit in one transaction. A request
that raises (an error response produced by an exception, or a crash) deletes its
row, so the key can be used again. Keys expire `KEY_TTL` after their first use.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from tenancy.errors import Conflict, DomainError
from tenancy.models import IdempotencyRecord

logger = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# A stored response is replayed for this long after the key's first use.
KEY_TTL = timedelta(hours=24)
# A row still waiting for its response after this long belongs to a request that
# died, so a new request with the key may take it over.
# NOTE: a request that truly runs longer than this can run twice; the bulk
# endpoints take seconds, far below it.
ABANDONED_AFTER = timedelta(minutes=10)

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "A unique key of up to 255 printable ASCII characters, such as a UUID. A retry "
        "with the same key and body returns the first response with the header "
        "Idempotent-Replayed: true and writes nothing. Keys expire after 24 hours."
    ),
)


class IdempotencyKeyReused(DomainError):
    status_code = 422
    code = "idempotency_key_reused"


def request_fingerprint(*, method: str, path: str, data) -> str:
    """Return the SHA-256 hex digest of the method, path and JSON body with sorted keys."""
    canonical = json.dumps(
        {"method": method, "path": path, "body": data},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_key_check(key: str) -> None:
    """Raise DomainError unless `key` is 1 to 255 printable ASCII characters."""
    if not key or len(key) > MAX_KEY_LENGTH or not all(" " <= char <= "~" for char in key):
        raise DomainError(
            "The Idempotency-Key header is invalid.",
            field=IDEMPOTENCY_HEADER,
            value=key,
            fix="Send 1 to 255 printable ASCII characters, such as a UUID.",
        )


def idempotency_claim(
    *, tenant, key: str, endpoint: str, request_hash: str
) -> tuple[IdempotencyRecord, bool]:
    """Claim `key` for a new request, or find the finished request that used it.

    Returns `(record, owned)`: owned is True when this request must run and store
    its response, False when `record` contains the response to replay. Raises
    IdempotencyKeyReused when the key was used with another endpoint or body, and
    Conflict while the request that owns the key is still running. Must run
    outside a transaction, so other requests see the claim at once.
    """
    for _ in range(2):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    tenant=tenant, key=key, endpoint=endpoint, request_hash=request_hash
                )
            return record, True
        except IntegrityError:
            pass

        stored = IdempotencyRecord.objects.filter(key=key).first()
        if stored is None:
            # Deleted by its owner's failure or by the expiry task since the insert.
            continue
        age = timezone.now() - stored.created_at
        abandoned = stored.response_status is None and age > ABANDONED_AFTER
        if age > KEY_TTL or abandoned:
            logger.info(
                "idempotency.expired tenant_id=%s record_id=%s abandoned=%s",
                tenant.pk,
                stored.pk,
                abandoned,
            )
            IdempotencyRecord.objects.filter(pk=stored.pk, created_at=stored.created_at).delete()
            continue
        if stored.endpoint != endpoint or stored.request_hash != request_hash:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used with a different request.",
                field=IDEMPOTENCY_HEADER,
                value=key,
                fix="Send a new key for a new request; reuse a key only to retry the exact "
                "same request to the same endpoint.",
            )
        if stored.response_status is None:
            raise _in_progress(key)
        return stored, False
    raise _in_progress(key)


def _in_progress(key: str) -> Conflict:
    return Conflict(
        "A request with this Idempotency-Key is still in progress.",
        field=IDEMPOTENCY_HEADER,
        value=key,
        fix="Retry later with the same key to get that request's response.",
    )


def idempotency_complete(*, record: IdempotencyRecord, status: int, body) -> None:
    """Store the response of the request that owns `record`."""
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        response_status=status, response_body=body, updated_at=timezone.now()
    )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Delete the claim of a request that failed, so its key can be used again."""
    IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True).delete()


def idempotency_records_expire() -> int:
    """Delete the records of every tenant older than KEY_TTL; return how many."""
    cutoff = timezone.now() - KEY_TTL
    deleted, _ = IdempotencyRecord.all_tenants.filter(created_at__lt=cutoff).delete()
    logger.info("idempotency.records_expired deleted=%s", deleted)
    return deleted


def replay_response(record: IdempotencyRecord) -> Response:
    return Response(
        record.response_body, status=record.response_status, headers={REPLAYED_HEADER: "true"}
    )


def idempotent(handler):
    """Make a TenantApiView handler honour the Idempotency-Key header.

    Without the header the handler runs as usual. With it, the handler and the
    storing of its response run in one transaction. A response of status 500 or
    more is not stored, so the client can retry.
    """

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        idempotency_key_check(key)
        tenant = view.tenant
        endpoint = f"{request.method} {request.path}"[:300]
        request_hash = request_fingerprint(
            method=request.method, path=request.path, data=request.data
        )

        record, owned = idempotency_claim(
            tenant=tenant, key=key, endpoint=endpoint, request_hash=request_hash
        )
        if not owned:
            logger.info(
                "idempotency.replayed tenant_id=%s record_id=%s status=%s",
                tenant.pk,
                record.pk,
                record.response_status,
            )
            return replay_response(record)

        try:
            with transaction.atomic():
                response = handler(view, request, *args, **kwargs)
                if response.status_code >= 500:
                    idempotency_release(record=record)
                else:
                    # Stored as the client receives it, so a replay has the same body.
                    body = json.loads(JSONRenderer().render(response.data) or b"null")
                    idempotency_complete(record=record, status=response.status_code, body=body)
        except BaseException:
            idempotency_release(record=record)
            raise
        return response

    return wrapper
