"""Fixtures for outgoing webhooks: a receiving HTTP server on 127.0.0.1 and endpoints."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from webhooks.models import WebhookEndpoint
from webhooks.signing import secret_generate


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    """What the test server received, and the status it answers with per path."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    location: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler_for(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if receiver.delay_seconds:
                time.sleep(receiver.delay_seconds)
            with receiver.lock:
                receiver.requests.append(Received(self.path, dict(self.headers), body))
            status = receiver.statuses.get(self.path, 200)
            self.send_response(status)
            if self.path in receiver.location:
                self.send_header("Location", receiver.location[self.path])
            reply = f"reply to {self.path} with {status}".encode()
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format, *args):
            pass

    return Handler


@pytest.fixture
def receiver(settings):
    """Run an HTTP server on 127.0.0.1 for the test, and allow private addresses."""
    settings.TRACK360_WEBHOOKS_ALLOW_PRIVATE = True
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def endpoint_create(tenant, url: str, event_types=("deal.scored",), **values) -> WebhookEndpoint:
    """Store an endpoint directly, skipping the URL check of the service."""
    return WebhookEndpoint.all_tenants.create(
        tenant=tenant,
        url=url,
        event_types=list(event_types),
        secret=values.pop("secret", secret_generate()),
        **values,
    )
