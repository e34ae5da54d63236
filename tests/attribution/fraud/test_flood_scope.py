"""Click floods hold only deals reached through the flooded clicks, and block their conversion."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest

from attribution.fraud.review import fraud_signal_confirm, fraud_signal_dismiss
from attribution.fraud.scan import fraud_scan
from attribution.fraud.thresholds import CLICK_FLOOD_MAX_CLICKS
from attribution.models import FraudSignal, Touch
from attribution.touches import conversion_record, touches_for_new_clicks
from commissions.models import LedgerEntry
from tests.attribution.fraud.conftest import T0, clicks_add, entry_create, minutes
from tests.factories import AccountFactory, DealFactory, FraudSignalFactory, UserFactory

Status = LedgerEntry.Status
FLOOD_VISITOR = "flood-visitor-1"
FLOOD_IP = "f" * 64


@pytest.fixture
def book(partner):
    """Pending entries of `partner` on two accounts, and a flood from one visitor."""
    stuffed = AccountFactory(domain="stuffed.com")
    honest = AccountFactory(domain="honest.com")

    def deal(account):
        return DealFactory(account=account, partner=partner, partner_named=True)

    return SimpleNamespace(
        partner=partner,
        stuffed=entry_create(partner, deal(stuffed), amount="150.00"),
        honest=entry_create(partner, deal(honest), amount="40.00"),
        flood=clicks_add(
            partner, minutes(T0, CLICK_FLOOD_MAX_CLICKS + 1, step=0.1), visitor_id=FLOOD_VISITOR
        ),
    )


def status_of(entry) -> str:
    return LedgerEntry.objects.get(pk=entry.pk).status


def flood_signal() -> FraudSignal:
    return FraudSignal.objects.get(kind=FraudSignal.Kind.CLICK_FLOOD)


def test_unconverted_flood_holds_nothing(book, scoped):
    result = fraud_scan(tenant=scoped)

    signal = flood_signal()
    assert result.entries_held == 0
    assert status_of(book.stuffed) == Status.PENDING
    assert status_of(book.honest) == Status.PENDING
    assert signal.summary.endswith(" Holds nothing: none of these clicks led to a customer.")
    assert signal.details["held"] == 0
    assert signal.details["reached_accounts"] == 0


def test_converted_flood_holds_that_deal(book, scoped):
    conversion_record(tenant=scoped, visitor_id=FLOOD_VISITOR, company="stuffed.com")

    result = fraud_scan(tenant=scoped)

    signal = flood_signal()
    assert result.entries_held == 1
    assert status_of(book.stuffed) == Status.HELD
    assert status_of(book.honest) == Status.PENDING
    assert signal.summary.endswith(" Holds 1 entry of deals reached through these clicks.")
    assert signal.details["reached_accounts"] == 1


def test_flood_counts_source_clicks_outside_window(book, scoped):
    # An unrelated visitor reached honest.com, and the flooding address, a week
    # before its flood, reached stuffed.com.
    clicks_add(book.partner, [T0 - datetime.timedelta(days=7)], visitor_id="early-visitor")
    conversion_record(tenant=scoped, visitor_id="early-visitor", company="honest.com")
    clicks_add(book.partner, minutes(T0, CLICK_FLOOD_MAX_CLICKS + 1, step=0.1), ip_hash=FLOOD_IP)
    ip_visitor = clicks_add(
        book.partner, [T0 - datetime.timedelta(days=8)], ip_hash=FLOOD_IP, visitor_id="ip-early"
    )[0]
    conversion_record(tenant=scoped, visitor_id=ip_visitor.visitor_id, company="stuffed.com")

    fraud_scan(tenant=scoped)

    assert status_of(book.stuffed) == Status.HELD
    assert status_of(book.honest) == Status.PENDING


def test_dismiss_releases_flood_hold(book, scoped):
    conversion_record(tenant=scoped, visitor_id=FLOOD_VISITOR, company="stuffed.com")
    fraud_scan(tenant=scoped)

    fraud_signal_dismiss(signal=flood_signal(), actor=UserFactory())

    assert status_of(book.stuffed) == Status.PENDING
    assert flood_signal().details["review_outcome"]["entries"] == 1


def test_flooded_clicks_do_not_convert_while_open(book, scoped):
    fraud_scan(tenant=scoped)

    result = conversion_record(tenant=scoped, visitor_id=FLOOD_VISITOR, company="stuffed.com")

    assert result.clicks == CLICK_FLOOD_MAX_CLICKS + 1
    assert result.touches_written == 0
    assert not Touch.objects.filter(domain="stuffed.com").exists()


def test_other_visitors_still_convert(book, scoped):
    fraud_scan(tenant=scoped)
    clicks_add(book.partner, [T0], visitor_id="honest-visitor")

    result = conversion_record(tenant=scoped, visitor_id="honest-visitor", company="honest.com")

    assert result.touches_written == 1


def test_flooded_late_clicks_do_not_convert(book, scoped):
    fraud_scan(tenant=scoped)
    conversion_record(tenant=scoped, visitor_id=FLOOD_VISITOR, company="stuffed.com")
    late = clicks_add(book.partner, [T0 + datetime.timedelta(hours=2)], visitor_id=FLOOD_VISITOR)

    partners = touches_for_new_clicks(tenant=scoped, click_ids=[late[0].pk])

    assert partners == set()
    assert not Touch.objects.filter(domain="stuffed.com").exists()


def test_dismissal_writes_blocked_touches(book, scoped):
    fraud_scan(tenant=scoped)
    conversion_record(tenant=scoped, visitor_id=FLOOD_VISITOR, company="stuffed.com")

    fraud_signal_dismiss(signal=flood_signal(), actor=UserFactory())

    touches = Touch.objects.filter(domain="stuffed.com", partner=book.partner)
    assert touches.count() == CLICK_FLOOD_MAX_CLICKS + 1
    later = conversion_record(tenant=scoped, visitor_id=FLOOD_VISITOR, company="other.com")
    assert later.touches_written == CLICK_FLOOD_MAX_CLICKS + 1


def test_confirmed_flood_keeps_blocking(book, scoped):
    fraud_scan(tenant=scoped)

    fraud_signal_confirm(signal=flood_signal(), actor=UserFactory(), note="Bot traffic.")
    result = conversion_record(tenant=scoped, visitor_id=FLOOD_VISITOR, company="stuffed.com")

    assert result.touches_written == 0


def test_spike_holds_deals_of_its_hour(book, scoped):
    hour = T0.replace(minute=0)
    spike = FraudSignalFactory(
        partner=book.partner,
        details={"evidence": "spike", "hour_start": hour.isoformat()},
    )
    inside = clicks_add(book.partner, [hour + datetime.timedelta(minutes=59)])[0]
    outside = clicks_add(book.partner, [hour + datetime.timedelta(minutes=60)])[0]
    spike.status = FraudSignal.Status.DISMISSED
    spike.save(update_fields=["status"])
    conversion_record(tenant=scoped, visitor_id=inside.visitor_id, company="stuffed.com")
    conversion_record(tenant=scoped, visitor_id=outside.visitor_id, company="honest.com")
    spike.status = FraudSignal.Status.OPEN
    spike.save(update_fields=["status"])

    fraud_scan(tenant=scoped)

    assert status_of(book.stuffed) == Status.HELD
    assert status_of(book.honest) == Status.PENDING
