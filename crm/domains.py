"""Normalise web addresses to the registrable domain an account is keyed by."""

from __future__ import annotations

import functools
import re

import tldextract

# Host name limits of RFC 1035: 253 characters in all, 63 per label.
MAX_HOST_LENGTH = 253
MAX_LABEL_LENGTH = 63
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


class InvalidDomain(ValueError):
    """The value has no registrable domain under the public suffix list."""


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    # The public suffix list bundled with tldextract, never fetched: the app runs
    # without outside network access.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def normalize_domain(raw: str) -> str:
    """Return the registrable domain of a host, address or URL.

    "https://www.Acme.co.uk./pricing" becomes "acme.co.uk". Raises InvalidDomain
    when the value has no public suffix (such as "localhost" or "acme").
    """
    value = raw.strip().lower()
    value = _SCHEME.sub("", value)
    value = value.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    value = value.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    if not value:
        raise InvalidDomain("empty domain")
    if len(value) > MAX_HOST_LENGTH or any(
        len(label) > MAX_LABEL_LENGTH for label in value.split(".")
    ):
        raise InvalidDomain(f"{raw!r} is longer than a host name may be")
    parts = _extractor()(value)
    if not parts.domain or not parts.suffix:
        raise InvalidDomain(f"{raw!r} has no registrable domain")
    return f"{parts.domain}.{parts.suffix}"
