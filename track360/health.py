"""Health endpoint for load balancers and docker-compose: checks PostgreSQL and Redis."""

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 2


def healthz(request):
    checks = {"database": "ok", "redis": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.exception("health.database_unreachable")
        checks["database"] = "unreachable"
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        client.ping()
    except redis.RedisError:
        # Won deals still commit while Redis is down and the sweep catches up, so
        # this reports the degradation without failing the web process.
        logger.warning("health.redis_unreachable", exc_info=True)
        checks["redis"] = "unreachable"
    healthy = checks["database"] == "ok"
    if not healthy:
        status = "error"
    elif checks["redis"] != "ok":
        status = "degraded"
    else:
        status = "ok"
    return JsonResponse({"status": status, **checks}, status=200 if healthy else 503)
