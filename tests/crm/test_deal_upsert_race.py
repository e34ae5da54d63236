"""Concurrent creates of one new deal both succeed and leave one row."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from crm.models import Deal
from crm.services import deal_upsert
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory

ROUNDS = 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_deal(tenant):
    with tenant_scope(tenant):
        AccountFactory(tenant=tenant, external_id="a1")
    errors: list[BaseException] = []

    def post(external_id: str, barrier: threading.Barrier) -> None:
        try:
            with tenant_scope(tenant):
                barrier.wait(timeout=10)
                deal_upsert(tenant=tenant, external_id=external_id, stage="open",
                            amount=Decimal("10.00"), account_external_id="a1")  # fmt: skip
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    for round_number in range(ROUNDS):
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=post, args=(f"race-{round_number}", barrier)) for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert errors == []
    assert Deal.all_tenants.filter(tenant=tenant).count() == ROUNDS
