"""Holding-period release, manual approve and void, payouts and their export."""

from __future__ import annotations

import csv
import datetime
import io
import threading
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from commissions.approval import entries_release_due, entry_status_set
from commissions.models import LedgerEntry, Payout, PayoutLine
from commissions.payouts import (
    payout_approve,
    payout_mark_paid,
    payouts_export_csv,
    payouts_prepare,
    period_parse,
)
from commissions.selectors import payout_carried_entries
from tenancy.errors import Conflict, DomainError
from tenancy.models import Tenant
from tenancy.scope import tenant_scope
from tests.factories import (
    AccountFactory,
    CommissionPlanFactory,
    DealFactory,
    MembershipFactory,
    PartnerFactory,
    UserFactory,
)

S = LedgerEntry.Status
# Entries are booked now, so payouts are prepared for this month and the next.
THIS_MONTH = period_parse(f"{datetime.datetime.now(datetime.UTC):%Y-%m}")
NEXT_MONTH = period_parse(f"{THIS_MONTH.end + datetime.timedelta(days=1):%Y-%m}")


@pytest.fixture
def next_month_started(monkeypatch):
    """Move the tenants' today into next month, so its payouts can be prepared."""
    monkeypatch.setattr(Tenant, "today", lambda self: NEXT_MONTH.start)


def entry(partner, amount, *, status=S.APPROVED, currency="USD", deal=None, plan=None, **values):
    entry.count = getattr(entry, "count", 0) + 1
    return LedgerEntry.objects.create(
        tenant=partner.tenant,
        partner=partner,
        deal=deal,
        plan=plan,
        status=status,
        idempotency_key=f"test:{entry.count}",
        base_amount=Decimal("1000.00"),
        rate=Decimal("0.1000"),
        multiplier=Decimal("1.00"),
        amount=Decimal(amount),
        currency=currency,
        **values,
    )


@pytest.fixture
def partner(scoped):
    return PartnerFactory(tenant=scoped, name="Northwind", external_id="nw-1")


@pytest.fixture
def manager(scoped):
    user = UserFactory(username="manager-acme")
    MembershipFactory(tenant=scoped, user=user, role="partner_manager")
    return user


# Holding period ---------------------------------------------------------------


def won_deal(tenant, close_date):
    return DealFactory(tenant=tenant, account=AccountFactory(tenant=tenant), close_date=close_date)


def test_release_approves_on_the_boundary_day_and_not_before(scoped, partner):
    plan = CommissionPlanFactory(tenant=scoped, holding_days=30)
    due = won_deal(scoped, datetime.date(2026, 11, 1))
    early = won_deal(scoped, datetime.date(2026, 11, 2))
    due_entry = entry(partner, "10.00", status=S.PENDING, deal=due, plan=plan)
    early_entry = entry(partner, "10.00", status=S.PENDING, deal=early, plan=plan)
    held = entry(partner, "10.00", status=S.HELD, deal=due, plan=plan)

    approved = entries_release_due(tenant=scoped, today=datetime.date(2026, 12, 1))

    assert approved == 1
    for item, status in ((due_entry, S.APPROVED), (early_entry, S.PENDING), (held, S.HELD)):
        item.refresh_from_db()
        assert item.status == status
    assert entries_release_due(tenant=scoped, today=datetime.date(2026, 12, 1)) == 0


def test_release_uses_the_default_holding_for_entries_without_plan(scoped, partner):
    deal = won_deal(scoped, datetime.date(2026, 11, 1))
    item = entry(partner, "10.00", status=S.PENDING, deal=deal)

    assert entries_release_due(tenant=scoped, today=datetime.date(2026, 11, 30)) == 0
    assert entries_release_due(tenant=scoped, today=datetime.date(2026, 12, 1)) == 1
    item.refresh_from_db()
    assert item.status == S.APPROVED


# Manual approve and void ------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        (S.PENDING, S.APPROVED, True),
        (S.PENDING, S.VOID, True),
        (S.APPROVED, S.VOID, True),
        (S.VOID, S.APPROVED, False),
        (S.PAID, S.VOID, False),
        (S.HELD, S.APPROVED, False),
        (S.HELD, S.VOID, False),
    ],
)
def test_entry_status_transitions(scoped, partner, admin_user, start, target, allowed):
    item = entry(partner, "10.00", status=start)

    if allowed:
        entry_status_set(entry_id=item.pk, status=target, actor=admin_user)
        item.refresh_from_db()
        assert item.status == target
    else:
        with pytest.raises(Conflict):
            entry_status_set(entry_id=item.pk, status=target, actor=admin_user)
        item.refresh_from_db()
        assert item.status == start


def test_entry_status_rejects_paid_as_target(scoped, partner):
    item = entry(partner, "10.00", status=S.PENDING)

    with pytest.raises(DomainError, match="approved or void"):
        entry_status_set(entry_id=item.pk, status=S.PAID)


def test_entry_in_a_payout_cannot_be_voided(scoped, partner):
    item = entry(partner, "80.00")
    payouts_prepare(tenant=scoped, period=THIS_MONTH)

    with pytest.raises(Conflict, match="in payout"):
        entry_status_set(entry_id=item.pk, status=S.VOID)


# Payouts ----------------------------------------------------------------------


def test_prepare_totals_exactly_with_negatives(scoped, partner):
    for amount in ("0.10", "0.20", "100.05", "-30.15"):
        entry(partner, amount)
    entry(partner, "999.00", status=S.PENDING)
    entry(partner, "999.00", status=S.HELD)

    [payout] = payouts_prepare(tenant=scoped, period=THIS_MONTH)

    assert payout.total == Decimal("70.20")
    assert payout.entry_count == 4
    assert payout.status == Payout.Status.PREPARED
    assert PayoutLine.objects.filter(payout=payout).count() == 4


def test_prepare_groups_per_currency(scoped, partner):
    entry(partner, "60.00", currency="USD")
    entry(partner, "70.00", currency="EUR")

    payouts = payouts_prepare(tenant=scoped, period=THIS_MONTH)

    assert sorted((p.currency, p.total) for p in payouts) == [
        ("EUR", Decimal("70.00")),
        ("USD", Decimal("60.00")),
    ]


@pytest.mark.parametrize("amounts", [("49.99",), ("100.00", "-150.00")])
def test_total_below_minimum_or_negative_carries_over(scoped, partner, amounts, next_month_started):
    entries = [entry(partner, amount) for amount in amounts]

    [carried] = payouts_prepare(tenant=scoped, period=THIS_MONTH)

    assert carried.status == Payout.Status.CARRIED_OVER
    assert not PayoutLine.objects.exists()
    entry(partner, "60.00")
    [later] = payouts_prepare(tenant=scoped, period=NEXT_MONTH)
    assert later.entry_count == len(entries) + 1
    expected = sum((Decimal(a) for a in amounts), Decimal("60.00"))
    assert later.total == expected
    assert later.status == (
        Payout.Status.PREPARED if expected >= Decimal("50.00") else Payout.Status.CARRIED_OVER
    )


def test_carried_statement_lists_the_entries_it_carried(scoped, partner, next_month_started):
    small = entry(partner, "20.00")
    [carried] = payouts_prepare(tenant=scoped, period=THIS_MONTH)
    entry(partner, "60.00")

    listed = list(payout_carried_entries(carried))
    payouts_prepare(tenant=scoped, period=NEXT_MONTH)

    assert listed == [small]
    assert list(payout_carried_entries(carried)) == [small]


def test_period_not_started_is_rejected(scoped, partner):
    entry(partner, "80.00")

    with pytest.raises(DomainError) as raised:
        payouts_prepare(tenant=scoped, period=NEXT_MONTH)

    assert raised.value.field == "period"
    assert not Payout.objects.exists()


def test_minimum_comes_from_the_active_plan(scoped, partner):
    CommissionPlanFactory(tenant=scoped, min_payout_amount=Decimal("5.00"))
    entry(partner, "6.00")

    [payout] = payouts_prepare(tenant=scoped, period=THIS_MONTH)

    assert payout.status == Payout.Status.PREPARED


def test_prepare_is_idempotent(scoped, partner):
    entry(partner, "80.00")
    assert len(payouts_prepare(tenant=scoped, period=THIS_MONTH)) == 1
    entry(partner, "90.00")

    assert payouts_prepare(tenant=scoped, period=THIS_MONTH) == []
    assert Payout.objects.count() == 1


def test_prepare_leaves_out_entries_booked_after_the_period(scoped, partner):
    entry(partner, "80.00")

    assert payouts_prepare(tenant=scoped, period=period_parse("2020-01")) == []


def test_period_parse_rejects_bad_month():
    with pytest.raises(DomainError) as error:
        period_parse("2026-13")
    assert error.value.field == "period"


@pytest.mark.django_db(transaction=True)
def test_concurrent_prepare_adds_one_payout(tenant):
    with tenant_scope(tenant):
        entry(PartnerFactory(tenant=tenant), "80.00")
    results, errors = [], []
    barrier = threading.Barrier(2)

    def prepare():
        try:
            barrier.wait()
            with tenant_scope(tenant):
                results.append(len(payouts_prepare(tenant=tenant, period=THIS_MONTH)))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=prepare) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results) == [0, 1]
    with tenant_scope(tenant):
        assert Payout.objects.count() == 1


def test_two_person_rule(scoped, partner, admin_user, manager):
    entry(partner, "80.00")
    [payout] = payouts_prepare(tenant=scoped, period=THIS_MONTH, actor=admin_user)

    with pytest.raises(Conflict, match="someone else must approve"):
        payout_approve(payout_id=payout.pk, actor=admin_user)
    approved = payout_approve(payout_id=payout.pk, actor=manager)

    assert approved.status == Payout.Status.APPROVED
    assert approved.approved_by == manager


def test_mark_paid_needs_approval(scoped, partner, admin_user):
    entry(partner, "80.00")
    [payout] = payouts_prepare(tenant=scoped, period=THIS_MONTH, actor=admin_user)

    with pytest.raises(Conflict, match="only approved payouts"):
        payout_mark_paid(payout_id=payout.pk)


def test_mark_paid_moves_only_that_payouts_entries(scoped, partner, admin_user, manager):
    other = PartnerFactory(tenant=scoped)
    mine = [entry(partner, "80.00"), entry(partner, "-10.00")]
    theirs = entry(other, "80.00")
    payouts = {p.partner_id: p for p in payouts_prepare(tenant=scoped, period=THIS_MONTH)}
    payout_approve(payout_id=payouts[partner.pk].pk, actor=manager)
    late = entry(partner, "5.00")

    paid = payout_mark_paid(payout_id=payouts[partner.pk].pk, actor=manager)
    payout_mark_paid(payout_id=payouts[partner.pk].pk, actor=manager)

    assert paid.status == Payout.Status.PAID
    statuses = {e.pk: e.status for e in LedgerEntry.objects.all()}
    assert [statuses[e.pk] for e in mine] == [S.PAID, S.PAID]
    assert statuses[theirs.pk] == S.APPROVED
    assert statuses[late.pk] == S.APPROVED


def test_held_entry_blocks_mark_paid(scoped, partner, manager):
    item = entry(partner, "80.00")
    [payout] = payouts_prepare(tenant=scoped, period=THIS_MONTH)
    payout_approve(payout_id=payout.pk, actor=manager)
    LedgerEntry.objects.filter(pk=item.pk).update(status=S.HELD)

    with pytest.raises(Conflict, match="is held"):
        payout_mark_paid(payout_id=payout.pk)
    item.refresh_from_db()
    assert item.status == S.HELD


def test_export_csv_escapes_formulas(scoped, manager):
    partner = PartnerFactory(tenant=scoped, name="=HYPERLINK(1)", external_id="+ext")
    entry(partner, "80.50")
    entry(partner, "0.25")
    [payout] = payouts_prepare(tenant=scoped, period=THIS_MONTH)
    assert payouts_export_csv(period=THIS_MONTH).count("\n") == 1
    payout_approve(payout_id=payout.pk, actor=manager)

    rows = list(csv.reader(io.StringIO(payouts_export_csv(period=THIS_MONTH))))

    assert rows[1] == ["'+ext", "'=HYPERLINK(1)", "USD", "80.75", "2", str(payout.pk)]


def test_release_command_approves_due_entries(scoped, partner):
    deal = won_deal(scoped, datetime.date(2020, 1, 1))
    item = entry(partner, "10.00", status=S.PENDING, deal=deal)
    out = io.StringIO()

    call_command("ledger_release_due", "--tenant", scoped.slug, stdout=out)

    item.refresh_from_db()
    assert item.status == S.APPROVED
    assert out.getvalue().strip() == "Approved 1 entries."


def test_release_command_rejects_unknown_tenant(db):
    with pytest.raises(CommandError, match="no-such-tenant"):
        call_command("ledger_release_due", "--tenant", "no-such-tenant")
