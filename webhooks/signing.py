"""The signature header of webhook requests, which receivers check with the endpoint secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def secret_generate() -> str:
    """Return a new endpoint secret: the prefix and 32 random bytes, URL-safe base64."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature_compute(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the whole secret."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the Track360-Signature value: "t=<unix seconds>,v1=<hex digest>"."""
    return f"t={timestamp},v1={signature_compute(secret=secret, timestamp=timestamp, body=body)}"
