"""Checks that keep webhook URLs off private networks (server-side request forgery).

A URL is accepted only with the http or https scheme and a host whose every
resolved address is public. The check runs when an endpoint is saved and again
on every send, where `SafeHTTPAdapter` connects to the address it checked, so a
DNS answer that changes between the two cannot point a delivery at an internal
service. `TRACK360_WEBHOOKS_ALLOW_PRIVATE = True` turns the address check off,
for local testing only.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

ALLOWED_SCHEMES = ("http", "https")


class UnsafeDestination(ValueError):
    """A URL or address a webhook may not be sent to; the message contains the reason."""


def resolve_host(host: str, port: int) -> list[str]:
    """Return the IP addresses `host` resolves to, in resolver order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def private_allowed() -> bool:
    return bool(getattr(settings, "TRACK360_WEBHOOKS_ALLOW_PRIVATE", False))


def address_problem(address: str) -> str | None:
    """Return why `address` is not a public unicast address, or None when it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address inside IPv6 reaches the IPv4 host, so the IPv4 rules apply.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            problem = address_problem(str(embedded))
            return f"{problem} (inside {ip})" if problem else None
    for name, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return f"{ip} is a {name} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def host_addresses_check(host: str, port: int) -> list[str]:
    """Resolve `host` and return its addresses; raise UnsafeDestination if any is not public."""
    try:
        addresses = resolve_host(host, port)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeDestination(f"The host {host!r} could not be resolved: {error}.") from None
    if not addresses:
        raise UnsafeDestination(f"The host {host!r} resolves to no address.")
    if private_allowed():
        return addresses
    for address in addresses:
        problem = address_problem(address)
        if problem:
            raise UnsafeDestination(
                f"The host {host!r} resolves to {address}, and {problem}; "
                "webhooks are sent only to public addresses."
            )
    return addresses


def url_check(url: str) -> None:
    """Raise UnsafeDestination unless `url` is http(s) and its host resolves to public addresses."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeDestination(f"The URL is invalid: {error}.") from None
    if parts.scheme not in ALLOWED_SCHEMES:
        raise UnsafeDestination(f"The scheme {parts.scheme!r} is not http or https.")
    if not parts.hostname:
        raise UnsafeDestination("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeDestination("The URL contains a user name or password.")
    host_addresses_check(parts.hostname, port)


def _checked_connection(connection: HTTPConnection):
    """Open a socket to the first checked address of the connection's host."""
    host = connection._dns_host
    addresses = host_addresses_check(host, connection.port)
    # Only checked addresses are tried; the host name still goes in the Host
    # header, the TLS server name and the certificate check.
    last_error: OSError | None = None
    for address in addresses:
        try:
            sock = socket.create_connection((address, connection.port), connection.timeout)
        except OSError as error:
            last_error = error
            continue
        for option in connection.socket_options or ():
            sock.setsockopt(*option)
        return sock
    if isinstance(last_error, TimeoutError):
        raise ConnectTimeoutError(
            connection, f"Connecting to {host} timed out after {connection.timeout} s."
        ) from last_error
    raise NewConnectionError(
        connection, f"Connecting to {host} failed: {last_error}"
    ) from last_error


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self):
        return _checked_connection(self)


class _CheckedHTTPSConnection(HTTPSConnection):
    def _new_conn(self):
        return _checked_connection(self)


class _CheckedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class SafeHTTPAdapter(HTTPAdapter):
    """A requests adapter that connects only to addresses `host_addresses_check` accepted."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPConnectionPool,
            "https": _CheckedHTTPSConnectionPool,
        }
