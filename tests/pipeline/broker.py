"""Point the test process's Celery app at another broker for one test."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from track360.celery import app as celery_app


def _drop_cached_connections() -> None:
    # Both pools are built lazily from the broker URL, so clearing them makes the
    # next task message connect to the broker set now.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextlib.contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Send tasks to `url` instead of running them eagerly, then restore the settings."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=url, task_always_eager=False)
    _drop_cached_connections()
    try:
        yield
    finally:
        celery_app.conf.update(saved)
        _drop_cached_connections()
