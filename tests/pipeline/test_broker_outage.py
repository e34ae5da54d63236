"""A won deal committed while Redis is unreachable is processed once it is back."""

import datetime
from decimal import Decimal

import pytest

from commissions.models import LedgerEntry
from crm.models import Deal
from crm.services import deal_upsert
from crm.tasks import sweep_pending_deals_task
from tests.pipeline.broker import celery_broker

# Nothing listens on port 1 of the loopback address, so connecting is refused at once.
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def broker_down():
    with celery_broker(UNREACHABLE_BROKER):
        yield


def test_deal_committed_while_broker_down_is_swept(
    program, broker_down, settings, django_capture_on_commit_callbacks
):
    settings.TRACK360_SWEEP_GRACE_SECONDS = 0
    tenant = program["partner"].tenant

    with django_capture_on_commit_callbacks(execute=True):
        deal, _ = deal_upsert(
            tenant=tenant,
            external_id="D-outage",
            stage="won",
            amount=Decimal("200.00"),
            close_date=datetime.date(2017, 6, 1),
            account_external_id="a1",
        )

    deal.refresh_from_db()
    assert deal.pipeline_status == Deal.PipelineStatus.PENDING
    assert LedgerEntry.objects.count() == 0

    Deal.objects.filter(pk=deal.pk).update(
        updated_at=deal.updated_at - datetime.timedelta(seconds=1)
    )
    processed = sweep_pending_deals_task.apply().get()

    deal.refresh_from_db()
    assert processed == 1
    assert deal.pipeline_status == Deal.PipelineStatus.PROCESSED
    assert LedgerEntry.objects.get().amount == Decimal("30.00")
