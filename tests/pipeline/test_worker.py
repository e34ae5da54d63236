"""End to end: a real Celery worker turns an API-posted won deal into a ledger entry."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from commissions.models import LedgerEntry
from tenancy.scope import tenant_scope
from tenancy.services import api_key_create
from tests.factories import (
    AccountFactory,
    CommissionPlanFactory,
    PartnerFactory,
    registration_create,
)
from tests.pipeline.broker import celery_broker
from tests.pipeline.conftest import make_active_version

ROOT = Path(__file__).resolve().parents[2]
# A Redis database of its own, so a developer's running worker never takes these tasks.
WORKER_REDIS_DB = 13
WAIT_SECONDS = 30


def _redis_url() -> str:
    parts = urlsplit(os.environ["REDIS_URL"])
    return urlunsplit(parts._replace(path=f"/{WORKER_REDIS_DB}"))


def _database_url() -> str:
    db = connection.settings_dict
    host = db["HOST"] or "localhost"
    if host.startswith("/"):
        from urllib.parse import quote

        host = quote(host, safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{host}{port}/{db['NAME']}"


@pytest.fixture
def worker():
    redis_url = _redis_url()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "track360.settings",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "track360", "worker", "--pool", "solo",
         "--loglevel", "INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        with celery_broker(redis_url):
            yield process
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        # pytest shows captured output only when the test fails.
        print(output)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_api_won_deal_reaches_ledger_through_worker(tenant, client, worker):
    with tenant_scope(tenant):
        make_active_version(tenant)
        CommissionPlanFactory(tenant=tenant, base_rate=Decimal("0.1000"))
        partner = PartnerFactory(tenant=tenant, external_id="p1")
        account = AccountFactory(
            tenant=tenant, external_id="a1", industry="software", employees=2000
        )
        registration_create(partner, account.domain, datetime.date(2017, 1, 1))
        _, raw_key = api_key_create(tenant=tenant, name="worker-test")

    response = client.post(
        "/api/v1/deals/",
        {"external_id": "W1", "stage": "won", "amount": "2500.00", "close_date": "2017-05-02",
         "account_external_id": "a1"},
        content_type="application/json",
        headers={"Authorization": f"Api-Key {raw_key}"},
    )  # fmt: skip
    assert response.status_code == 201, response.content

    deadline = time.monotonic() + WAIT_SECONDS
    entry = None
    while time.monotonic() < deadline and entry is None:
        if worker.poll() is not None:
            pytest.fail("the worker exited early; its output follows the test")
        entry = LedgerEntry.all_tenants.filter(tenant=tenant).first()
        time.sleep(0.2)

    assert entry is not None, "no ledger entry within 30 s"
    assert entry.amount == Decimal("375.00")
    assert entry.fit_tier == "A"
    assert entry.partner_id == partner.pk
