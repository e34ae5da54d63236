import ipaddress

import pytest

from tenancy.errors import DomainError
from webhooks import ssrf
from webhooks.delivery import deliveries_send, http_session
from webhooks.events import events_write
from webhooks.models import WebhookDelivery
from webhooks.services import endpoint_create
from webhooks.ssrf import UnsafeDestination, url_check

from .conftest import endpoint_create as endpoint_store

PUBLIC_ADDRESS = "93.184.215.14"


@pytest.fixture
def dns(monkeypatch):
    """Answer name lookups from a table, so no test reaches a real DNS server."""
    table = {"hooks.example.com": [PUBLIC_ADDRESS]}

    def resolve(host, port):
        if host in table:
            return table[host]
        # Literal addresses resolve to themselves, as getaddrinfo does.
        if _is_literal(host):
            return [host]
        raise ssrf.socket.gaierror(f"unknown host {host}")

    monkeypatch.setattr(ssrf, "resolve_host", resolve)
    return table


def _is_literal(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("http://192.168.0.10/hook", "private"),
        ("http://172.16.5.4/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://224.0.0.1/hook", "multicast"),
        ("http://100.64.0.1/hook", "not a public address"),
        ("http://[::1]/hook", "loopback"),
        ("http://[fe80::1]/hook", "link-local"),
        ("http://[fc00::1]/hook", "private"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://[::ffff:10.0.0.1]/hook", "private"),
        ("http://internal.example.com/hook", "private"),
    ],
)
def test_private_destination_is_rejected(dns, url, reason):
    dns["internal.example.com"] = ["10.20.30.40"]

    with pytest.raises(UnsafeDestination) as raised:
        url_check(url)

    assert reason in str(raised.value)


def test_localhost_is_rejected():
    # The real resolver answers localhost from the hosts file, without the network.
    with pytest.raises(UnsafeDestination) as raised:
        url_check("http://localhost:8000/hook")

    assert "loopback" in str(raised.value)


def test_name_with_one_private_address_is_rejected(dns):
    dns["mixed.example.com"] = [PUBLIC_ADDRESS, "127.0.0.1"]

    with pytest.raises(UnsafeDestination):
        url_check("https://mixed.example.com/hook")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example.com/x", "scheme 'ftp'"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("http:///hook", "no host"),
        ("https://user:pw@hooks.example.com/", "user name or password"),
    ],
)
def test_bad_url_is_rejected(dns, url, message):
    with pytest.raises(UnsafeDestination) as raised:
        url_check(url)

    assert message in str(raised.value)


def test_public_name_is_accepted(dns):
    url_check("https://hooks.example.com/track360")


def test_private_allowed_by_setting(dns, settings):
    settings.TRACK360_WEBHOOKS_ALLOW_PRIVATE = True

    url_check("http://127.0.0.1:8000/hook")
    url_check("http://[::1]/hook")


def test_create_rejects_private_url_with_field(scoped, dns):
    with pytest.raises(DomainError) as raised:
        endpoint_create(tenant=scoped, url="http://169.254.169.254/", event_types=["deal.scored"])

    assert raised.value.field == "url"
    assert raised.value.value == "http://169.254.169.254/"
    assert "public addresses" in raised.value.fix


def test_send_rechecks_address_after_dns_change(scoped, dns, receiver, settings):
    endpoint_store(scoped, f"http://rebind.example.com:{receiver.port}/hook")
    (delivery_id,) = events_write(
        tenant_id=scoped.pk, event_type="deal.scored", payload={"id": 1}, enqueue=False
    )
    # The name resolved to a public address when it was saved, and to loopback now.
    dns["rebind.example.com"] = ["127.0.0.1"]
    settings.TRACK360_WEBHOOKS_ALLOW_PRIVATE = False

    deliveries_send()

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert receiver.requests == []
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "Rejected destination" in delivery.last_error
    assert "loopback" in delivery.last_error


def test_connection_uses_resolved_address_and_name(scoped, dns, receiver):
    """The adapter connects to the checked address and sends the name as the Host."""
    endpoint_store(scoped, f"http://pinned.example.com:{receiver.port}/hook")
    (delivery_id,) = events_write(
        tenant_id=scoped.pk, event_type="deal.scored", payload={"id": 1}, enqueue=False
    )
    dns["pinned.example.com"] = ["127.0.0.1"]

    deliveries_send()

    (request,) = receiver.requests
    assert request.headers["Host"] == f"pinned.example.com:{receiver.port}"
    assert WebhookDelivery.objects.get(pk=delivery_id).status == "succeeded"


def test_adapter_rejects_private_peer_itself(dns, receiver, settings):
    """A request that skips the pre-send check is still stopped at connect time."""
    dns["rebind.example.com"] = ["127.0.0.1"]
    settings.TRACK360_WEBHOOKS_ALLOW_PRIVATE = False

    with pytest.raises(UnsafeDestination):
        http_session().post(f"http://rebind.example.com:{receiver.port}/hook", data=b"{}")

    assert receiver.requests == []
