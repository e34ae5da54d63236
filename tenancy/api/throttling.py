"""Request rate limits of the tenant API: one per API key, and one per session user.

Both count requests in Django's cache, which is the shared Redis, so every web
process reads the same counts. A throttled request gets 429 with a `Retry-After`
header in whole seconds.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from tenancy.models import ApiKey

# NOTE: DRF's SimpleRateThrottle reads, appends and writes the request history in
# three steps without a lock, so concurrent requests of one key can overshoot the
# rate by about the number of requests in flight.


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Limit each API key to its own `rate`, else to `settings.TRACK360_API_RATE`."""

    scope = "api_key"

    def __init__(self):
        # The rate depends on the key, so `allow_request` sets it per request.
        self.rate = None

    def allow_request(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return True
        self.rate = key.rate or settings.TRACK360_API_RATE
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class SessionUserRateThrottle(SimpleRateThrottle):
    """Limit each logged-in user to `settings.TRACK360_SESSION_API_RATE` across tenants."""

    scope = "api_session"

    def get_rate(self) -> str:
        return settings.TRACK360_SESSION_API_RATE

    def get_cache_key(self, request, view) -> str | None:
        if request.auth is not None or not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
