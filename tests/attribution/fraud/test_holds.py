"""Holds on commission entries: applied by open signals, released, voided, never on paid ones."""

from __future__ import annotations

import threading
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection, transaction

from attribution.fraud.holds import fraud_lock, holds_apply, scopes_of
from attribution.fraud.review import fraud_signal_confirm, fraud_signal_dismiss
from attribution.fraud.scan import fraud_scan
from attribution.fraud.selectors import held_amounts
from attribution.models import FraudSignal, Referral
from commissions.models import LedgerEntry
from reporting.models import PartnerRollup
from reporting.services import partner_rollups_refresh
from tenancy.errors import Conflict, DomainError
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tests.attribution.fraud.conftest import entry_create
from tests.factories import (
    AccountFactory,
    DealFactory,
    FraudSignalFactory,
    PartnerFactory,
    ReferralFactory,
    UserFactory,
)

Status = LedgerEntry.Status


@pytest.fixture
def book(partner):
    """Entries of `partner` on two accounts, and of another partner on the first one.

    `partner`'s own domain is northwind.com, and it registered the account with that
    domain: a self-referral that covers the entries on that account only.
    """
    referred = AccountFactory(domain="northwind.com", name="Northwind (own company)")
    elsewhere = AccountFactory(domain="fabrikam.com")
    other = PartnerFactory(name="Other partner")
    referral = ReferralFactory(partner=partner, domain="northwind.com")

    def deal(account, owner):
        return DealFactory(account=account, partner=owner, partner_named=True)

    book = SimpleNamespace(partner=partner, other=other, referral=referral)
    book.pending = entry_create(partner, deal(referred, partner), amount="150.00")
    book.approved = entry_create(partner, deal(referred, partner), status=Status.APPROVED)
    book.paid = entry_create(partner, deal(referred, partner), status=Status.PAID)
    book.elsewhere = entry_create(partner, deal(elsewhere, partner), amount="40.00")
    book.other_partner = entry_create(other, deal(referred, other))
    return book


def statuses(book) -> dict[str, str]:
    names = ("pending", "approved", "paid", "elsewhere", "other_partner")
    return {name: LedgerEntry.objects.get(pk=getattr(book, name).pk).status for name in names}


def partner_signal(partner, **values) -> FraudSignal:
    """Open a partner-wide signal (a burst) and hold what it covers, as a scan would."""
    values.setdefault("kind", FraudSignal.Kind.OFF_PROFILE_BURST)
    signal = FraudSignalFactory(partner=partner, **values)
    with transaction.atomic():
        fraud_lock(partner.tenant_id)
        holds_apply(tenant_id=partner.tenant_id, partner_ids=[partner.pk])
    return signal


def test_referral_signal_holds_its_accounts_entries(book, scoped):
    fraud_scan(tenant=scoped)

    signal = FraudSignal.objects.get()
    assert signal.kind == FraudSignal.Kind.SELF_REFERRAL
    assert statuses(book) == {
        "pending": Status.HELD,
        "approved": Status.APPROVED,
        "paid": Status.PAID,
        "elsewhere": Status.PENDING,
        "other_partner": Status.PENDING,
    }
    assert signal.summary.endswith(" 2 entries already approved or paid were not held.")
    assert signal.details["not_held"] == 2


def test_not_held_note_is_written_once(book, scoped):
    fraud_scan(tenant=scoped)
    fraud_scan(tenant=scoped)

    summary = FraudSignal.objects.get().summary
    assert summary.count("already approved or paid") == 1


def test_referral_linked_to_account_covers_it(book, scoped):
    account = AccountFactory(domain="renamed.com")
    deal = DealFactory(account=account, partner=book.partner, partner_named=True)
    entry = entry_create(book.partner, deal)
    linked = ReferralFactory(partner=book.partner, domain="old-name.com", account=account)

    FraudSignalFactory(partner=book.partner, kind=FraudSignal.Kind.SELF_REFERRAL, referral=linked)
    with transaction.atomic():
        fraud_lock(scoped.pk)
        held = holds_apply(tenant_id=scoped.pk)

    assert held == 1
    assert LedgerEntry.objects.get(pk=entry.pk).status == Status.HELD


def test_registration_signal_without_referral_covers_nothing(book, scoped):
    signal = FraudSignalFactory(partner=book.partner, kind=FraudSignal.Kind.DUPLICATE_REGISTRATION)

    assert scopes_of([(signal.pk, book.partner.pk, signal.kind, None)])[signal.pk].is_empty


def test_partner_signal_holds_every_pending_entry(book):
    partner_signal(book.partner)

    assert statuses(book) == {
        "pending": Status.HELD,
        "approved": Status.APPROVED,
        "paid": Status.PAID,
        "elsewhere": Status.HELD,
        "other_partner": Status.PENDING,
    }


def test_held_amounts_per_currency(book):
    euro_deal = DealFactory(account=AccountFactory(), partner=book.partner, partner_named=True)
    entry_create(book.partner, euro_deal, amount="12.3400", currency="EUR")
    signal = partner_signal(book.partner)

    amounts = held_amounts([signal])[signal.pk]

    assert [(a.currency, a.amount, a.entries) for a in amounts] == [
        ("EUR", Decimal("12.3400"), 1),
        ("USD", Decimal("190.0000"), 2),
    ]


def test_dismiss_releases_held_entries(book, scoped, admin_user):
    fraud_scan(tenant=scoped)
    signal = FraudSignal.objects.get()

    dismissed = fraud_signal_dismiss(signal=signal, actor=admin_user, note="Their subsidiary.")

    assert dismissed.status == FraudSignal.Status.DISMISSED
    assert dismissed.reviewed_by == admin_user
    assert dismissed.review_note == "Their subsidiary."
    assert dismissed.details["review_outcome"] == {"entries": 1, "amounts": {"USD": "150.0000"}}
    assert statuses(book)["pending"] == Status.PENDING
    event = AuditEvent.objects.get(event="fraud_signal.dismissed")
    assert event.object_id == str(signal.pk)
    assert event.after["released"]["entries"] == 1


def test_dismiss_keeps_entries_another_signal_covers(book, scoped, admin_user):
    fraud_scan(tenant=scoped)
    referral_signal = FraudSignal.objects.get()
    wide = partner_signal(book.partner)

    fraud_signal_dismiss(signal=referral_signal, actor=admin_user)

    assert statuses(book)["pending"] == Status.HELD
    assert statuses(book)["elsewhere"] == Status.HELD

    fraud_signal_dismiss(signal=wide, actor=admin_user)

    assert statuses(book)["pending"] == Status.PENDING
    assert statuses(book)["elsewhere"] == Status.PENDING


def test_dismiss_partner_signal_keeps_referral_hold(book, scoped, admin_user):
    fraud_scan(tenant=scoped)
    wide = partner_signal(book.partner)

    fraud_signal_dismiss(signal=wide, actor=admin_user)

    assert statuses(book)["pending"] == Status.HELD
    assert statuses(book)["elsewhere"] == Status.PENDING


def test_confirm_voids_held_entries_and_rejects_referral(book, scoped, admin_user):
    fraud_scan(tenant=scoped)
    partner_rollups_refresh()
    signal = FraudSignal.objects.get()

    confirmed = fraud_signal_confirm(signal=signal, actor=admin_user, note="Own company.")

    assert confirmed.status == FraudSignal.Status.CONFIRMED
    assert confirmed.details["review_outcome"]["entries"] == 1
    assert statuses(book) == {
        "pending": Status.VOID,
        "approved": Status.APPROVED,
        "paid": Status.PAID,
        "elsewhere": Status.PENDING,
        "other_partner": Status.PENDING,
    }
    referral = Referral.objects.get(pk=book.referral.pk)
    assert referral.status == Referral.Status.REJECTED
    assert referral.reviewed_by == admin_user
    assert referral.review_note == f"Fraud signal {signal.pk} confirmed: Own company."
    assert AuditEvent.objects.filter(event="referral.rejected").count() == 1
    # Void entries leave the partner's commission total.
    rollup = PartnerRollup.objects.get(partner=book.partner)
    assert rollup.commission_total == Decimal("340.00")


def test_confirm_voids_entries_another_signal_covers(book, scoped, admin_user):
    fraud_scan(tenant=scoped)
    referral_signal = FraudSignal.objects.get()
    wide = partner_signal(book.partner)

    fraud_signal_confirm(signal=wide, actor=admin_user, note="Bot traffic.")
    fraud_signal_dismiss(signal=referral_signal, actor=admin_user)

    assert statuses(book)["pending"] == Status.VOID
    assert statuses(book)["elsewhere"] == Status.VOID
    assert statuses(book)["approved"] == Status.APPROVED
    assert statuses(book)["other_partner"] == Status.PENDING


def test_dismiss_twice_changes_nothing(book, scoped, admin_user):
    fraud_scan(tenant=scoped)
    signal = FraudSignal.objects.get()
    first = fraud_signal_dismiss(signal=signal, actor=admin_user, note="First.")

    second = fraud_signal_dismiss(signal=signal, actor=admin_user, note="Second.")

    assert second.review_note == "First."
    assert second.reviewed_at == first.reviewed_at
    assert AuditEvent.objects.filter(event="fraud_signal.dismissed").count() == 1


def test_confirm_twice_changes_nothing(book, scoped, admin_user):
    fraud_scan(tenant=scoped)
    signal = FraudSignal.objects.get()
    fraud_signal_confirm(signal=signal, actor=admin_user, note="First.")

    second = fraud_signal_confirm(signal=signal, actor=admin_user, note="Second.")

    assert second.review_note == "First."
    assert AuditEvent.objects.filter(event="fraud_signal.confirmed").count() == 1


def test_dismiss_after_confirm_conflicts(book, scoped, admin_user):
    fraud_scan(tenant=scoped)
    signal = FraudSignal.objects.get()
    fraud_signal_confirm(signal=signal, actor=admin_user, note="Own company.")

    with pytest.raises(Conflict) as raised:
        fraud_signal_dismiss(signal=signal, actor=admin_user)

    assert raised.value.field == "status"
    assert raised.value.value == "confirmed"
    assert statuses(book)["pending"] == Status.VOID


def test_confirm_after_dismiss_conflicts(book, scoped, admin_user):
    fraud_scan(tenant=scoped)
    signal = FraudSignal.objects.get()
    fraud_signal_dismiss(signal=signal, actor=admin_user)

    with pytest.raises(Conflict):
        fraud_signal_confirm(signal=signal, actor=admin_user, note="Changed my mind.")

    assert statuses(book)["pending"] == Status.PENDING


@pytest.mark.parametrize(("note", "message"), [("  ", "required"), ("x" * 501, "more than 500")])
def test_confirm_rejects_bad_note(book, scoped, admin_user, note, message):
    fraud_scan(tenant=scoped)
    signal = FraudSignal.objects.get()

    with pytest.raises(DomainError) as raised:
        fraud_signal_confirm(signal=signal, actor=admin_user, note=note)

    assert raised.value.field == "note"
    assert message in raised.value.message
    assert FraudSignal.objects.get().status == FraudSignal.Status.OPEN
    assert statuses(book)["pending"] == Status.HELD


def _race(tenant, actions) -> list:
    """Run each action in its own thread and connection at the same moment; return outcomes."""
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(position, action):
        try:
            with tenant_scope(tenant):
                barrier.wait(timeout=10)
                outcomes[position] = action()
        except BaseException as error:  # noqa: BLE001 - returned for the test to check
            outcomes[position] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_concurrent_dismissals_release_once(tenant):
    with tenant_scope(tenant):
        partner = PartnerFactory()
        deal = DealFactory(account=AccountFactory(), partner=partner, partner_named=True)
        entry = entry_create(partner, deal)
        signal = partner_signal(partner)
        user = UserFactory()

    outcomes = _race(tenant, [lambda: fraud_signal_dismiss(signal=signal, actor=user)] * 2)

    assert [type(outcome) for outcome in outcomes] == [FraudSignal, FraudSignal]
    with tenant_scope(tenant):
        assert AuditEvent.objects.filter(event="fraud_signal.dismissed").count() == 1
        assert LedgerEntry.objects.get(pk=entry.pk).status == Status.PENDING


@pytest.mark.django_db(transaction=True)
def test_concurrent_dismiss_and_confirm_one_wins(tenant):
    with tenant_scope(tenant):
        partner = PartnerFactory()
        deal = DealFactory(account=AccountFactory(), partner=partner, partner_named=True)
        entry = entry_create(partner, deal)
        signal = partner_signal(partner)
        user = UserFactory()

    outcomes = _race(
        tenant,
        [
            lambda: fraud_signal_dismiss(signal=signal, actor=user),
            lambda: fraud_signal_confirm(signal=signal, actor=user, note="Bots."),
        ],
    )

    conflicts = [outcome for outcome in outcomes if isinstance(outcome, Conflict)]
    assert len(conflicts) == 1
    with tenant_scope(tenant):
        final = FraudSignal.objects.get(pk=signal.pk)
        expected = Status.PENDING if final.status == FraudSignal.Status.DISMISSED else Status.VOID
        assert LedgerEntry.objects.get(pk=entry.pk).status == expected
        assert AuditEvent.objects.filter(event__startswith="fraud_signal.").count() == 1
