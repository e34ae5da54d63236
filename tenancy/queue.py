"""Enqueue Celery tasks after the surrounding transaction commits."""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _send(task, args: tuple, kwargs: dict) -> None:
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except (BrokerError, RedisError, OSError):
        # The rows are committed; the periodic sweep picks up what this task would
        # have done once the broker is back.
        logger.exception("task.enqueue_failed task=%s args=%s", task.name, args)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Send `task` once the current transaction commits; log and go on if the broker is down."""
    transaction.on_commit(partial(_send, task, args, kwargs))
