"""Normalise web addresses to the registrable domain an account is keyed by."""

from __future__ import annotations

import functools
import re

import idna
import tldextract

# Host name limits of RFC 1035: 253 characters in all, 63 per label.
MAX_HOST_LENGTH = 253
MAX_LABEL_LENGTH = 63
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# One ASCII label of a host name: letters, digits and inner hyphens (RFC 1123).
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


class InvalidDomain(ValueError):
    """The value has no registrable domain under the public suffix list."""


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    # The public suffix list bundled with tldextract, never fetched: the app runs
    # without outside network access. Only the list's ICANN section is used, so a
    # host under a private suffix such as github.io or blogspot.com is keyed by
    # that suffix's own domain ("acme.github.io" becomes "github.io").
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False
    )


def registrable_label(domain: str) -> str:
    """Return the label left of the public suffix, such as "acme" for "acme.co.uk"."""
    return _extractor()(domain).domain


def _ascii_host(value: str, raw: str) -> str:
    """Return the host in its ASCII (punycode) form; raise InvalidDomain when malformed.

    Internationalised names are stored as punycode, so "münchen.de" and
    "xn--mnchen-3ya.de" are the same key. The mapping is IDNA 2008 with UTS 46.
    """
    try:
        if not value.isascii():
            value = idna.encode(value, uts46=True).decode("ascii")
        elif "xn--" in value:
            idna.decode(value)
    except idna.IDNAError:
        raise InvalidDomain(f"{raw!r} is not a valid internationalised host name") from None
    for label in value.split("."):
        if not _LABEL.match(label):
            raise InvalidDomain(f"{raw!r} has an invalid label {label!r}")
    return value


def normalize_domain(raw: str) -> str:
    """Return the registrable domain of a host, address or URL.

    "https://www.Acme.co.uk./pricing" becomes "acme.co.uk" and "jane@Bücher.ch"
    becomes "xn--bcher-kva.ch". Scheme, user info, port, path, query and fragment
    are dropped. Raises InvalidDomain when the value has no public suffix (such as
    "localhost", "acme" or an IP address) or is not a valid host name.
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
    value = _ascii_host(value, raw)
    parts = _extractor()(value)
    if not parts.domain or not parts.suffix:
        raise InvalidDomain(f"{raw!r} has no registrable domain")
    return f"{parts.domain}.{parts.suffix}"


def domain_display(domain: str) -> str:
    """Return a stored domain as people write it: "xn--mnchen-3ya.de" as "münchen.de"."""
    try:
        return idna.decode(domain)
    except idna.IDNAError:
        return domain
