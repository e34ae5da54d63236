"""Clicks on tracking links: the record the redirect queues, and the drain that writes them.

The redirect builds a compact record and pushes it to Redis (`attribution.clickqueue`)
without touching the database. Of the visitor it keeps the first-party cookie's
random id, an HMAC-SHA256 of the client address keyed with SECRET_KEY (never the
address), the user agent cut to 300 characters and the referring page's host.

`clicks_drain` writes the queued records in batches with one
`INSERT … ON CONFLICT (tenant_id, click_id) DO NOTHING` each, so writing a batch
twice adds nothing, and acknowledges a batch only after its transaction commits.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from attribution import clickqueue
from attribution.links import CachedLink
from tenancy.http import client_address
from tenancy.models import Tenant
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

COOKIE_NAME = "t360_vid"
COOKIE_MAX_AGE_SECONDS = 90 * 24 * 3600
# The query parameter that hands the visitor id to the landing page, so the
# tenant's site can report a conversion with it.
VISITOR_PARAM = "t360_vid"
# Visitor and click ids: the redirect makes 22 URL-safe characters; a tenant's
# system may send back anything of this shape.
VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{8,40}$")
# Query parameters of the link URL that the redirect passes on to the destination.
FORWARDED_PARAM = re.compile(r"^utm_[a-z_]{1,30}$")
MAX_FORWARDED_PARAMS = 10
MAX_FORWARDED_VALUE_LENGTH = 200
MAX_USER_AGENT_LENGTH = 300
MAX_HOST_LENGTH = 253
# Seconds the drain lock lives without being renewed; it is renewed before each batch.
DRAIN_LOCK_SECONDS = 300
# Dropped clicks are logged once, then once per this many, so a full queue
# cannot flood the log.
DROP_LOG_EVERY = 1000

_dropped = 0


def visitor_id_new() -> str:
    return secrets.token_urlsafe(16)


def ip_hash(address: str) -> str:
    """Return the HMAC-SHA256 of a client address, keyed with SECRET_KEY, as hex."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()


def _referer_host(referer: str) -> str:
    try:
        return (urlsplit(referer).hostname or "")[:MAX_HOST_LENGTH]
    except ValueError:
        return ""


def click_record(*, link: CachedLink, visitor_id: str, meta: dict) -> dict:
    """Return the queue record of one click; `meta` is the request's META."""
    # Behind reverse proxies, TRACK360_TRUSTED_PROXIES must give their number, or
    # every click has the proxy's address hash.
    return {
        "id": secrets.token_urlsafe(16),
        "t": link.tenant_id,
        "l": link.link_id,
        "at": timezone.now().timestamp(),
        "v": visitor_id,
        "ip": ip_hash(client_address(meta)),
        "ua": meta.get("HTTP_USER_AGENT", "")[:MAX_USER_AGENT_LENGTH],
        "rh": _referer_host(meta.get("HTTP_REFERER", "")),
    }


def click_enqueue(record: dict) -> bool:
    """Queue a click for the worker; return False, and log, when it cannot be queued.

    The visitor is redirected either way, so a full queue or a Redis outage loses
    clicks but never breaks links.
    """
    global _dropped
    try:
        if clickqueue.push(record):
            return True
        reason = "queue_full"
    except redis.RedisError:
        reason = "redis_unavailable"
    _dropped += 1
    if _dropped % DROP_LOG_EVERY == 1:
        logger.warning(
            "click.dropped reason=%s tenant_id=%s link_id=%s dropped_in_process=%s",
            reason,
            record["t"],
            record["l"],
            _dropped,
        )
    return False


def destination_url(destination: str, query, visitor_id: str) -> str:
    """Return `destination` with the link URL's utm_* parameters and the visitor id added.

    The destination's own parameters win over forwarded ones of the same name.
    """
    parts = urlsplit(destination)
    params = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key != VISITOR_PARAM
    ]
    present = {key for key, _ in params}
    forwarded = 0
    for key, value in query.items():
        if forwarded >= MAX_FORWARDED_PARAMS:
            break
        if key in present or not FORWARDED_PARAM.match(key):
            continue
        params.append((key, value[:MAX_FORWARDED_VALUE_LENGTH]))
        forwarded += 1
    params.append((VISITOR_PARAM, visitor_id))
    return urlunsplit(parts._replace(query=urlencode(params)))


@dataclass
class DrainResult:
    """Counts of one drain run, where read = written + duplicates + invalid + orphaned."""

    batches: int = 0
    read: int = 0
    written: int = 0
    # Records whose click was written before, by a run that stopped before acknowledging.
    duplicates: int = 0
    # Records that are not valid click JSON.
    invalid: int = 0
    # Records whose link was deleted before they were written.
    orphaned: int = 0
    # Tenant id → ids of the partners whose clicks were written.
    partners_by_tenant: dict[int, list[int]] = field(default_factory=dict)
    # True when another drainer held the lock, so this run did nothing.
    skipped: bool = False


def _parse(raw: bytes) -> tuple | None:
    """Return the INSERT values of one record, or None when it is not a valid record."""
    try:
        record = json.loads(raw)
        values = (
            int(record["t"]),
            int(record["l"]),
            datetime.datetime.fromtimestamp(float(record["at"]), tz=datetime.UTC),
            str(record["v"]),
            str(record["ip"]),
            str(record.get("ua", ""))[:MAX_USER_AGENT_LENGTH],
            str(record.get("rh", ""))[:MAX_HOST_LENGTH],
            str(record["id"]),
        )
    except (ValueError, TypeError, KeyError, OverflowError):
        return None
    if not VISITOR_ID.match(values[3]) or not VISITOR_ID.match(values[7]):
        return None
    if len(values[4]) != 64:
        return None
    return values


INSERT_CLICKS = """
INSERT INTO attribution_click (
    tenant_id, link_id, partner_id, clicked_at, visitor_id, ip_hash, user_agent,
    referer_host, click_id, created_at, updated_at
)
SELECT l.tenant_id, l.id, l.partner_id, x.clicked_at, x.visitor_id, x.ip_hash,
       x.user_agent, x.referer_host, x.click_id, now(), now()
  FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[], %s::text[], %s::text[],
              %s::text[], %s::text[], %s::text[])
       AS x(tenant_id, link_id, clicked_at, visitor_id, ip_hash, user_agent,
            referer_host, click_id)
  JOIN attribution_trackinglink AS l ON l.id = x.link_id AND l.tenant_id = x.tenant_id
ON CONFLICT (tenant_id, click_id) DO NOTHING
RETURNING tenant_id, partner_id
"""

KNOWN_CLICKS = """
SELECT c.tenant_id, c.id
  FROM attribution_click AS c
  JOIN unnest(%s::bigint[], %s::text[]) AS x(tenant_id, click_id)
    ON c.tenant_id = x.tenant_id AND c.click_id = x.click_id
"""


def _batch_write(raw_records: list[bytes], result: DrainResult) -> None:
    """Write one batch in one transaction, with link touches of visitors who converted."""
    # Imported here because attribution.touches imports this module.
    from attribution.touches import touches_for_new_clicks

    rows = []
    for raw in raw_records:
        values = _parse(raw)
        if values is None:
            result.invalid += 1
            logger.warning("click.invalid_record length=%s", len(raw))
            continue
        rows.append(values)
    result.read += len(raw_records)
    if not rows:
        return
    columns = [list(column) for column in zip(*rows, strict=True)]
    partners: dict[int, set[int]] = defaultdict(set)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(INSERT_CLICKS, columns)
        written = cursor.fetchall()
        for tenant_id, partner_id in written:
            partners[tenant_id].add(partner_id)
        # Also the clicks a crashed run wrote: their conversion touches may be missing.
        cursor.execute(KNOWN_CLICKS, [columns[0], columns[7]])
        stored = cursor.fetchall()
        click_ids: dict[int, list[int]] = defaultdict(list)
        for tenant_id, click_id in stored:
            click_ids[tenant_id].append(click_id)
        for tenant_id, ids in click_ids.items():
            tenant = Tenant.objects.get(pk=tenant_id)
            with tenant_scope(tenant):
                touches_for_new_clicks(tenant=tenant, click_ids=ids)
    result.written += len(written)
    result.duplicates += len(stored) - len(written)
    result.orphaned += len(rows) - len(stored)
    for tenant_id, partner_ids in partners.items():
        known = set(result.partners_by_tenant.get(tenant_id, []))
        result.partners_by_tenant[tenant_id] = sorted(known | partner_ids)


def clicks_drain(*, batch_size: int | None = None, max_batches: int | None = None) -> DrainResult:
    """Write queued clicks to the database until the queue is empty or `max_batches` ran.

    First finishes a batch that a stopped run left in the processing list, then
    moves new batches there. Each batch is trimmed from the processing list only
    after its transaction commits, so a crash loses no click, and its replay adds
    none twice. Returns what it did, including the partners whose clicks were
    written, by tenant. When another drainer runs, returns at once with `skipped`.
    """
    batch_size = batch_size or settings.TRACK360_CLICK_DRAIN_BATCH
    result = DrainResult()
    lock = clickqueue.drain_lock(DRAIN_LOCK_SECONDS)
    if not lock.acquire():
        result.skipped = True
        logger.info("click.drain_skipped reason=locked")
        return result
    try:
        while max_batches is None or result.batches < max_batches:
            batch = clickqueue.pending_batch(batch_size)
            recovered = bool(batch)
            if not batch:
                batch = clickqueue.move_batch(batch_size)
            if not batch:
                break
            if recovered:
                logger.info("click.drain_recovering records=%s", len(batch))
            _batch_write(batch, result)
            clickqueue.acknowledge(len(batch))
            result.batches += 1
            lock.reacquire()
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            logger.warning("click.drain_lock_lost")
    if result.read:
        logger.info(
            "click.drained batches=%s read=%s written=%s duplicates=%s invalid=%s orphaned=%s",
            result.batches,
            result.read,
            result.written,
            result.duplicates,
            result.invalid,
            result.orphaned,
        )
    return result
