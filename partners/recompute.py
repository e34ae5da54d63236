"""Send partner score refreshes to the worker after a change, debounced per tenant.

Reach list changes and booked won deals call `partner_scores_enqueue`. A won deal
refreshes the partners credited with it and those whose reach contains its
account. Once the
transaction commits, the affected partner ids go into a Redis set per tenant, and a
refresh task is sent only when none is scheduled for the tenant yet, which a key
with a TTL marks. The task starts DEBOUNCE_SECONDS later, claims the set and
refreshes the partners in it, so a burst of 1,000 won deals sends one task, plus at
most one more for changes that arrive while it runs.

The claimed ids stay in Redis under the task's id until the refresh finishes, so a
task killed half way and delivered again (tasks are acknowledged late) refreshes
them again. When Redis cannot be reached, the task is sent with the ids as its
arguments instead, and when that fails too, the hourly refresh of every tenant
(`refresh_all_partner_scores_task`) catches up.

NOTE: open and lost deals posted one at a time through the deals API change
pipeline overlap and win rates but call nothing here, so their partners' scores
wait for the hourly refresh.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Seconds a scheduled refresh waits for more changes before it starts.
DEBOUNCE_SECONDS = 5
# A scheduled task deletes its key when it starts. If the task is lost, say because
# the broker lost it, the key expires after this long and changes schedule a new one.
SCHEDULED_TTL_SECONDS = 300
# Pending and claimed partner ids expire after a day; the hourly refresh of every
# tenant covers anything they held.
PENDING_TTL_SECONDS = 24 * 60 * 60
REDIS_TIMEOUT_SECONDS = 2
KEY_PREFIX = "track360:partner-scores"
# The member of the pending set that stands for every partner of the tenant.
ALL_PARTNERS = "*"


def _pending_key(tenant_id: int) -> str:
    return f"{KEY_PREFIX}:pending:{tenant_id}"


def _scheduled_key(tenant_id: int) -> str:
    return f"{KEY_PREFIX}:scheduled:{tenant_id}"


def _claimed_key(tenant_id: int, claim_id: str) -> str:
    return f"{KEY_PREFIX}:claimed:{tenant_id}:{claim_id}"


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )


def redis_client() -> redis.Redis:
    """Return the client of the Redis server the broker uses."""
    return _client(settings.REDIS_URL)


def partner_scores_enqueue(
    *, tenant_id: int, partner_ids: list[int] | None = None, account_ids: list[int] = ()
) -> None:
    """Schedule a refresh of the tenant's `partner_ids` (None: every partner) after commit.

    With `account_ids`, the partners whose reach contains those accounts are
    refreshed too, because their pipeline, customer and target overlap changed.
    """
    from partners.models import ReachEntry

    ids = None if partner_ids is None else {int(pk) for pk in partner_ids}
    if ids is not None and account_ids:
        ids |= set(
            ReachEntry.all_tenants.filter(tenant_id=tenant_id, account_id__in=list(account_ids))
            .values_list("partner_id", flat=True)
            .distinct()
        )
    if ids is not None and not ids:
        return
    ids = None if ids is None else sorted(ids)
    transaction.on_commit(functools.partial(partner_scores_request, tenant_id, ids))


def partner_scores_request(tenant_id: int, partner_ids: list[int] | None) -> bool:
    """Add the partners to the tenant's pending set and send a task unless one is scheduled.

    Returns True when this call sent a task. Called after commit, outside any
    transaction of the change.
    """
    from partners.tasks import refresh_partner_scores_task

    members = [ALL_PARTNERS] if partner_ids is None else [str(pk) for pk in partner_ids]
    count = "all" if partner_ids is None else len(partner_ids)
    try:
        with redis_client().pipeline() as pipe:
            pipe.sadd(_pending_key(tenant_id), *members)
            pipe.expire(_pending_key(tenant_id), PENDING_TTL_SECONDS)
            pipe.set(_scheduled_key(tenant_id), "1", nx=True, ex=SCHEDULED_TTL_SECONDS)
            scheduled_now = pipe.execute()[-1]
    except RedisError:
        logger.exception(
            "partner_scores.debounce_failed tenant_id=%s partners=%s: sending the task "
            "without debouncing",
            tenant_id,
            count,
        )
        return _send(refresh_partner_scores_task, (tenant_id,), {"partner_ids": partner_ids})

    if not scheduled_now:
        logger.info("partner_scores.debounced tenant_id=%s partners=%s", tenant_id, count)
        return False
    sent = _send(
        refresh_partner_scores_task, (tenant_id,), {"claim": True}, countdown=DEBOUNCE_SECONDS
    )
    if not sent:
        # Let the next change try to schedule again instead of waiting for the TTL.
        try:
            redis_client().delete(_scheduled_key(tenant_id))
        except RedisError:
            logger.exception("partner_scores.unschedule_failed tenant_id=%s", tenant_id)
    else:
        logger.info("partner_scores.scheduled tenant_id=%s partners=%s", tenant_id, count)
    return sent


def _send(task, args: tuple, kwargs: dict, countdown: int | None = None) -> bool:
    try:
        task.apply_async(args=args, kwargs=kwargs, countdown=countdown)
    except (BrokerError, RedisError, OSError):
        logger.exception("task.enqueue_failed task=%s args=%s", task.name, args)
        return False
    return True


@dataclass(frozen=True)
class Claim:
    """The partner ids a refresh task took over; `partner_ids` None means every partner."""

    found: bool
    partner_ids: list[int] | None


def pending_claim(*, tenant_id: int, claim_id: str) -> Claim:
    """Move the tenant's pending partner ids to this task's claim and return them.

    Also deletes the scheduled mark, so changes from now on schedule another task.
    A task delivered again with the same id gets its earlier claim back, plus any ids
    pending since. Raises RedisError when Redis cannot be reached.
    """
    claimed_key = _claimed_key(tenant_id, claim_id)
    pending_key = _pending_key(tenant_id)
    with redis_client().pipeline() as pipe:
        pipe.delete(_scheduled_key(tenant_id))
        pipe.sunionstore(claimed_key, [claimed_key, pending_key])
        pipe.delete(pending_key)
        pipe.expire(claimed_key, PENDING_TTL_SECONDS)
        pipe.smembers(claimed_key)
        members = {member.decode() for member in pipe.execute()[-1]}
    if not members:
        return Claim(found=False, partner_ids=[])
    if ALL_PARTNERS in members:
        return Claim(found=True, partner_ids=None)
    return Claim(found=True, partner_ids=sorted(int(member) for member in members))


def pending_release(*, tenant_id: int, claim_id: str) -> None:
    """Forget a claim once its refresh has finished."""
    try:
        redis_client().delete(_claimed_key(tenant_id, claim_id))
    except RedisError:
        # The claim expires by itself, and refreshing it again would be harmless.
        logger.exception("partner_scores.release_failed tenant_id=%s claim=%s", tenant_id, claim_id)
