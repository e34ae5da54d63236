"""Partners' tracking links: destination checks, unique codes, deactivation and the cache.

A link redirects only to http or https URLs on a host the tenant allows
(`Tenant.link_domains`, where each host also allows its subdomains), without
user info, so a link can never send visitors to another site or to a script.
The redirect reads links through `link_for_code`, which caches them in Redis.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna
import redis
from django.conf import settings
from django.db import IntegrityError, transaction

from attribution import clickqueue
from attribution.models import TrackingLink
from crm.domains import InvalidDomain, normalize_domain
from partners.models import Partner
from tenancy.errors import DomainError
from tenancy.models import Tenant
from tenancy.services import actor_user, audit_record

logger = logging.getLogger(__name__)

# Letters and digits without the look-alikes 0, O, 1, I and l, so a code read aloud
# or retyped stays right. 10 characters give 56**10, about 3 * 10**17, codes.
CODE_ALPHABET = "23456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 10
CODE_PATTERN = re.compile(r"^[A-Za-z0-9]{8,16}$")
CODE_ATTEMPTS = 5
MAX_DESTINATION_LENGTH = 2000
MAX_LABEL_LENGTH = 100
MAX_LINK_HOSTS = 50
# Seconds the redirect trusts a cached link, and a cached "no such code". Link
# changes and partner status changes delete the cached entries, but a redirect
# that read the database just before such a change committed may cache the old
# state, for at most CACHE_SECONDS.
CACHE_SECONDS = 300
MISSING_CACHE_SECONDS = 60
# Cache keys deleted per Redis command when a partner's status changes.
CACHE_FORGET_CHUNK = 1000
# Whitespace, control characters and backslashes, which browsers may read as "/".
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f\\]")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")

LINK_DOMAINS_FIX = (
    "An admin or partner manager adds the hosts of the tenant's own site, such as "
    "acme.com, under Settings → Tracking links, or with PUT /api/v1/settings/attribution/ "
    '{"link_domains": ["acme.com"]}.'
)


def code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _host_ascii(host: str) -> str:
    """Return `host` lower case in punycode; raise ValueError when it is not a host name."""
    host = host.strip().lower().rstrip(".")
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            raise ValueError("not a valid internationalised host name") from None
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValueError("not a host name such as www.acme.com")
    try:
        normalize_domain(host)
    except InvalidDomain:
        raise ValueError("not under a public domain suffix") from None
    return host


def link_hosts_parse(values) -> list[str]:
    """Return the allowed link hosts sorted and without repeats; raise DomainError naming one.

    Accepts host names such as "acme.com" or "www.acme.co.uk"; a scheme or path
    around a host ("https://acme.com/") is dropped.
    """
    if isinstance(values, str):
        values = [value for value in re.split(r"[\s,]+", values) if value]
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise DomainError(
            "link_domains is not a list of host names.",
            field="link_domains",
            value=values,
            fix='Send a list such as ["acme.com", "shop.acme.com"].',
        )
    if len(values) > MAX_LINK_HOSTS:
        raise DomainError(
            f"The link host list has {len(values)} hosts, more than {MAX_LINK_HOSTS}.",
            field="link_domains",
            value=len(values),
            fix="List the registrable domains, such as acme.com; each one allows its subdomains.",
        )
    hosts = set()
    for value in values:
        raw = value.strip()
        if "://" in raw:
            raw = urlsplit(raw).hostname or ""
        raw = raw.split("/", 1)[0]
        try:
            hosts.add(_host_ascii(raw))
        except ValueError as error:
            raise DomainError(
                f"Link host {value!r} is {error}.",
                field="link_domains",
                value=value,
                fix="Give host names only, such as acme.com or www.acme.com.",
            ) from None
    return sorted(hosts)


def _host_allowed(host: str, allowed: list[str]) -> bool:
    return any(host == entry or host.endswith(f".{entry}") for entry in allowed)


def destination_check(*, tenant: Tenant, url) -> str:
    """Return `url` when a link of `tenant` may redirect to it; raise DomainError otherwise."""

    def reject(message: str, fix: str):
        return DomainError(message, field="destination", value=url, fix=fix)

    if not isinstance(url, str) or not url.strip():
        raise reject("The destination URL is missing.", "Give a URL such as https://acme.com/.")
    url = url.strip()
    if len(url) > MAX_DESTINATION_LENGTH:
        raise reject(
            f"The destination URL is longer than {MAX_DESTINATION_LENGTH} characters.",
            "Shorten the URL, for example by dropping tracking parameters.",
        )
    if _UNSAFE.search(url):
        raise reject(
            "The destination URL contains spaces, control characters or backslashes.",
            "Percent-encode spaces as %20 and use / in paths.",
        )
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise reject(
            f"Destination scheme {parts.scheme or '(none)'!r} is not allowed.",
            "Use an http:// or https:// URL on the tenant's site.",
        )
    if "@" in parts.netloc:
        raise reject(
            "The destination URL contains a user name or password.",
            "Remove the part before @ in the host.",
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        raise reject(
            "The destination port is invalid.", "Use a port from 1 to 65535, or none."
        ) from None
    try:
        host = _host_ascii(parts.hostname or "")
    except ValueError as error:
        raise reject(
            f"The destination host is {error}.", "Use a URL such as https://acme.com/."
        ) from None
    if not tenant.link_domains:
        raise reject(
            "The tenant has not listed the hosts its tracking links may redirect to.",
            LINK_DOMAINS_FIX,
        )
    if not _host_allowed(host, tenant.link_domains):
        raise reject(
            f"Links may not redirect to {host}: it is not one of the tenant's link hosts "
            f"({', '.join(tenant.link_domains)}).",
            "Use a URL on one of those hosts, or ask an admin or partner manager to add the "
            "host under Settings → Tracking links.",
        )
    return url


def _label_check(label) -> str:
    if label is None:
        return ""
    if not isinstance(label, str) or len(label.strip()) > MAX_LABEL_LENGTH:
        raise DomainError(
            f"The label is not text of at most {MAX_LABEL_LENGTH} characters.",
            field="label",
            value=label,
            fix="Name the link shortly, such as 'Newsletter March'.",
        )
    return label.strip()


def link_create(*, partner: Partner, destination, label="", actor=None) -> TrackingLink:
    """Create a tracking link with a new random code for `partner`.

    Raises DomainError naming the field for a bad destination or label and for a
    partner that is not active. A code that another link has already is drawn again.
    """
    tenant = partner.tenant
    label = _label_check(label)
    destination = destination_check(tenant=tenant, url=destination)
    if partner.status != Partner.Status.ACTIVE:
        raise DomainError(
            f"Partner {partner.name} is {partner.get_status_display().lower()}, and only "
            "active partners get tracking links.",
            field="partner",
            value=partner.external_id,
            fix="Activate the partner first.",
        )
    with transaction.atomic():
        for attempt in range(1, CODE_ATTEMPTS + 1):
            code = code_new()
            try:
                with transaction.atomic():
                    link = TrackingLink.objects.create(
                        tenant=tenant,
                        partner=partner,
                        code=code,
                        label=label,
                        destination=destination,
                        created_by=actor_user(actor),
                    )
                break
            except IntegrityError:
                logger.warning("link.code_collision tenant_id=%s attempt=%s", tenant.pk, attempt)
        else:
            raise RuntimeError(f"no free link code after {CODE_ATTEMPTS} attempts")
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            event="link.created",
            obj=link,
            after={"partner_id": partner.pk, "code": code, "destination": destination},
        )
        transaction.on_commit(lambda: cache_forget(code))
    logger.info(
        "link.created tenant_id=%s partner_id=%s link_id=%s", tenant.pk, partner.pk, link.pk
    )
    return link


def link_deactivate(*, link: TrackingLink, actor=None) -> TrackingLink:
    """Stop the link from redirecting; deactivating it again changes nothing."""
    with transaction.atomic():
        locked = TrackingLink.objects.select_for_update().get(pk=link.pk)
        if not locked.is_active:
            return locked
        locked.is_active = False
        locked.save(update_fields=["is_active", "updated_at"])
        audit_record(tenant_id=locked.tenant_id, actor=actor, event="link.deactivated", obj=locked)
        transaction.on_commit(lambda: cache_forget(locked.code))
    logger.info("link.deactivated tenant_id=%s link_id=%s", locked.tenant_id, locked.pk)
    return locked


def link_url(code: str) -> str:
    """Return the public URL of the link with `code`."""
    base = settings.TRACK360_LINK_BASE_URL or settings.TRACK360_BASE_URL
    return f"{base}/r/{code}"


@dataclass(frozen=True)
class CachedLink:
    """The fields of an active link that the redirect uses."""

    link_id: int
    tenant_id: int
    partner_id: int
    destination: str


def cache_forget(code: str) -> None:
    try:
        clickqueue.client().delete(f"{clickqueue.LINK_KEY_PREFIX}{code}")
    except redis.RedisError:
        # NOTE: the redirect then follows the old state for up to CACHE_SECONDS.
        logger.warning("link.cache_forget_failed code_prefix=%s", code[:3], exc_info=True)


def partner_links_cache_forget(partner_id: int) -> int:
    """Delete the cached entries of all of a partner's links; return how many codes it had.

    Called after the partner's status changes, because only an active partner's
    links redirect.
    """
    codes = list(
        TrackingLink.all_tenants.filter(partner_id=partner_id).values_list("code", flat=True)
    )
    keys = [f"{clickqueue.LINK_KEY_PREFIX}{code}" for code in codes]
    try:
        for start in range(0, len(keys), CACHE_FORGET_CHUNK):
            clickqueue.client().delete(*keys[start : start + CACHE_FORGET_CHUNK])
    except redis.RedisError:
        # NOTE: the redirect then follows the old status for up to CACHE_SECONDS.
        logger.warning(
            "link.partner_cache_forget_failed partner_id=%s links=%s",
            partner_id,
            len(keys),
            exc_info=True,
        )
    return len(codes)


def _destination_still_allowed(row: dict) -> bool:
    try:
        host = _host_ascii(urlsplit(row["destination"]).hostname or "")
    except ValueError:
        return False
    if _host_allowed(host, row["tenant__link_domains"] or []):
        return True
    logger.info("link.host_no_longer_allowed tenant_id=%s link_id=%s", row["tenant_id"], row["pk"])
    return False


def link_for_code(code: str) -> CachedLink | None:
    """Return the active link with `code`, or None; read from Redis, else the database.

    Codes are unique across tenants, so this is a lookup without a tenant scope.
    A link of a partner that is not active (paused, terminated or not yet
    active), or whose destination host the tenant no longer lists, counts as missing.
    Unknown and inactive codes are cached as missing for MISSING_CACHE_SECONDS.
    When Redis is down, every call reads the database.
    """
    if not CODE_PATTERN.match(code):
        return None
    key = f"{clickqueue.LINK_KEY_PREFIX}{code}"
    try:
        cached = clickqueue.client().get(key)
    except redis.RedisError:
        logger.warning("link.cache_unavailable", exc_info=True)
        cached = None
        key = None
    if cached is not None:
        data = json.loads(cached)
        return CachedLink(**data) if data else None

    row = (
        TrackingLink.all_tenants.filter(
            code=code, is_active=True, partner__status=Partner.Status.ACTIVE
        )
        .values("pk", "tenant_id", "partner_id", "destination", "tenant__link_domains")
        .first()
    )
    link = None
    if row is not None and _destination_still_allowed(row):
        link = CachedLink(
            link_id=row["pk"],
            tenant_id=row["tenant_id"],
            partner_id=row["partner_id"],
            destination=row["destination"],
        )
    if key is not None:
        value = json.dumps(link.__dict__ if link is not None else {})
        seconds = CACHE_SECONDS if link is not None else MISSING_CACHE_SECONDS
        try:
            clickqueue.client().set(key, value, ex=seconds)
        except redis.RedisError:
            logger.warning("link.cache_write_failed", exc_info=True)
    return link


def active_link_hosts_outside(*, tenant: Tenant, hosts: list[str]) -> list[str]:
    """Return the destination hosts of the tenant's active links that `hosts` would not allow."""
    stranded = set()
    destinations = TrackingLink.all_tenants.filter(tenant_id=tenant.pk, is_active=True)
    for destination in destinations.values_list("destination", flat=True).distinct():
        try:
            host = _host_ascii(urlsplit(destination).hostname or "")
        except ValueError:
            continue
        if not _host_allowed(host, hosts):
            stranded.add(host)
    return sorted(stranded)
