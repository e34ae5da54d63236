"""The Redis list that carries clicks from the redirect to the worker, and the link cache.

The redirect pushes one compact JSON record per click onto QUEUE_KEY and never
writes to the database. The drainer moves a batch atomically onto
PROCESSING_KEY, writes it, and only then trims it from there, so a crash
between the two leaves the batch in PROCESSING_KEY for the next run. One
drainer runs at a time, under DRAIN_LOCK_KEY.
"""

from __future__ import annotations

import functools
import json
import logging

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

QUEUE_KEY = "t360:clicks:queue"
PROCESSING_KEY = "t360:clicks:processing"
DRAIN_LOCK_KEY = "t360:clicks:drain-lock"
LINK_KEY_PREFIX = "t360:link:"

# The redirect waits at most this long for Redis before it redirects without
# recording the click.
SOCKET_TIMEOUT_SECONDS = 0.5

# Push a record unless the queue is full; returns the new length, or -1 when full.
_PUSH_SCRIPT = """
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[2]) then
  return -1
end
return redis.call('LPUSH', KEYS[1], ARGV[1])
"""

# Move up to ARGV[1] of the oldest records from the queue to the processing list.
_MOVE_SCRIPT = """
local moved = {}
for i = 1, tonumber(ARGV[1]) do
  local item = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not item then
    break
  end
  moved[#moved + 1] = item
end
return moved
"""


@functools.cache
def client() -> redis.Redis:
    """Return this process's Redis client for clicks and the link cache (REDIS_URL)."""
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        health_check_interval=30,
    )


@functools.cache
def _script(source: str):
    return client().register_script(source)


def push(record: dict) -> bool:
    """Append one click record to the queue; return False when the queue is full."""
    script = _script(_PUSH_SCRIPT)
    length = script(
        keys=[QUEUE_KEY],
        args=[json.dumps(record, separators=(",", ":")), settings.TRACK360_CLICK_QUEUE_MAX],
    )
    return int(length) >= 0


def pending_batch(size: int) -> list[bytes]:
    """Return the oldest `size` records left in the processing list by an unfinished drain."""
    return client().lrange(PROCESSING_KEY, -size, -1)


def move_batch(size: int) -> list[bytes]:
    """Move up to `size` of the oldest queued records onto the processing list and return them."""
    script = _script(_MOVE_SCRIPT)
    return script(keys=[QUEUE_KEY, PROCESSING_KEY], args=[size])


def acknowledge(count: int) -> None:
    """Remove the `count` oldest records from the processing list, once they are written."""
    client().ltrim(PROCESSING_KEY, 0, -(count + 1))


def lengths() -> tuple[int, int]:
    """Return how many records wait in the queue and in the processing list."""
    pipe = client().pipeline(transaction=False)
    pipe.llen(QUEUE_KEY)
    pipe.llen(PROCESSING_KEY)
    queued, processing = pipe.execute()
    return int(queued), int(processing)


def drain_lock(timeout_seconds: int):
    """Return the lock that lets one drainer run at a time; it expires after `timeout_seconds`."""
    return client().lock(DRAIN_LOCK_KEY, timeout=timeout_seconds, blocking=False)
