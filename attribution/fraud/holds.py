"""Holds: the commission entries that open fraud signals keep from being paid.

A signal about one registration (self-referral, duplicate registration) covers
the partner's entries on deals of that registration's account: the referral's
account, or else the tenant's account with the referral's domain. A click flood
covers the partner's entries on deals of the accounts that its flooded clicks
reached through link touches (see `attribution.fraud.flooded`), so a flood that
converted nobody holds nothing. A burst signal covers every entry of the
partner, because the partner makes its registrations itself. While a signal is
open, the pending entries it covers are held. Approved and paid entries never
change.

Every status move here is a status-only UPDATE, which the ledger's append-only
trigger allows. Scans, reviews and accrual writes take the tenant's fraud lock
(a PostgreSQL advisory lock) in the same transaction as their writes. Accrual
writes take it shared, so they never wait for each other, and a new accrual
therefore always reads every committed open signal.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from attribution.fraud.flooded import reached_account_ids
from attribution.fraud.signals import REFERRAL_KINDS, shortened
from attribution.models import FraudSignal, Referral
from commissions.models import LedgerEntry
from crm.models import Account, Deal

logger = logging.getLogger(__name__)

# First key of the advisory lock taken per tenant by scans, reviews and accrual
# writes; the roll-up refresh uses 36001.
FRAUD_LOCK_CLASS = 36002
NOT_PAYABLE_STATUSES = (LedgerEntry.Status.APPROVED, LedgerEntry.Status.PAID)
_NOT_HELD_NOTE = re.compile(r" \d+ entr(?:y|ies) already approved or paid (?:was|were) not held\.$")
_HOLDS_NOTE = re.compile(
    r" Holds (?:nothing: none of these clicks led to a customer"
    r"|\d+ entr(?:y|ies) of deals reached through these clicks)\.$"
)


def fraud_lock(tenant_id: int, *, shared: bool = False) -> None:
    """Take the tenant's fraud lock until the current transaction ends."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [FRAUD_LOCK_CLASS, tenant_id])


@dataclass(frozen=True)
class HoldScopes:
    """The entries some signals cover: whole partners, and (partner, account) pairs."""

    partners: frozenset[int] = frozenset()
    accounts: frozenset[tuple[int, int]] = frozenset()

    def covers(self, partner_id: int, account_id: int | None) -> bool:
        return partner_id in self.partners or (partner_id, account_id) in self.accounts

    @property
    def is_empty(self) -> bool:
        return not self.partners and not self.accounts


@dataclass
class EntryMove:
    """Entries that changed status, with their commission amount per currency."""

    count: int = 0
    amounts: dict[str, Decimal] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "entries": self.count,
            "amounts": {currency: str(amount) for currency, amount in sorted(self.amounts.items())},
        }


def referral_account_ids(referral_ids) -> dict[int, int | None]:
    """Return each referral's account id: its own link, else the account with its domain."""
    rows = list(
        Referral.objects.filter(pk__in=referral_ids).values_list("pk", "account_id", "domain")
    )
    unlinked = {domain for _, account_id, domain in rows if account_id is None and domain}
    by_domain = dict(
        Account.objects.filter(domain__in=unlinked).values_list("domain", "pk") if unlinked else []
    )
    return {pk: account_id or by_domain.get(domain) for pk, account_id, domain in rows}


def scopes_of(signals: list[tuple[int, int, str, int | None]]) -> dict[int, HoldScopes]:
    """Return the scope of each `(signal id, partner id, kind, referral id)`.

    A registration signal whose referral is gone, or whose company has no account,
    covers nothing, and so does a click flood whose clicks reached no account.
    """
    accounts = referral_account_ids(
        {referral_id for _, _, kind, referral_id in signals if kind in REFERRAL_KINDS}
    )
    reached = reached_account_ids(
        {signal_id for signal_id, _, kind, _ in signals if kind == FraudSignal.Kind.CLICK_FLOOD}
    )
    scopes = {}
    for signal_id, partner_id, kind, referral_id in signals:
        if kind == FraudSignal.Kind.CLICK_FLOOD:
            scopes[signal_id] = HoldScopes(
                accounts=frozenset(
                    (partner_id, account_id) for account_id in reached.get(signal_id, ())
                )
            )
        elif kind not in REFERRAL_KINDS:
            scopes[signal_id] = HoldScopes(partners=frozenset({partner_id}))
        elif accounts.get(referral_id) is not None:
            scopes[signal_id] = HoldScopes(
                accounts=frozenset({(partner_id, accounts[referral_id])})
            )
        else:
            scopes[signal_id] = HoldScopes()
    return scopes


def _signal_rows(signals) -> list[tuple[int, int, str, int | None]]:
    return list(signals.values_list("pk", "partner_id", "kind", "referral_id"))


def open_scopes(*, partner_ids=None, exclude_signal_id: int | None = None) -> HoldScopes:
    """Return what the active tenant's open signals cover, for `partner_ids` or all partners."""
    signals = FraudSignal.objects.filter(status=FraudSignal.Status.OPEN)
    if partner_ids is not None:
        signals = signals.filter(partner_id__in=partner_ids)
    if exclude_signal_id is not None:
        signals = signals.exclude(pk=exclude_signal_id)
    return scopes_union(scopes_of(_signal_rows(signals)).values())


def scopes_union(scopes) -> HoldScopes:
    partners: set[int] = set()
    accounts: set[tuple[int, int]] = set()
    for scope in scopes:
        partners |= scope.partners
        accounts |= scope.accounts
    return HoldScopes(partners=frozenset(partners), accounts=frozenset(accounts))


def _scope_sql(scopes: HoldScopes) -> tuple[str, list]:
    """Return a condition on ledger entry `e` that is true for the entries in `scopes`.

    The first test lets PostgreSQL read only the scopes' partners through the
    ledger's (tenant, partner) index.
    """
    pairs = sorted(scopes.accounts)
    condition = """
        (e.partner_id = ANY(%s)
         AND (e.partner_id = ANY(%s)
              OR EXISTS (
                 SELECT 1
                   FROM crm_deal AS d
                   JOIN unnest(%s::bigint[], %s::bigint[]) AS s(partner_id, account_id)
                     ON s.account_id = d.account_id
                  WHERE d.tenant_id = e.tenant_id AND d.id = e.deal_id
                    AND s.partner_id = e.partner_id)))
    """
    params = [
        sorted(scopes.partners | {partner_id for partner_id, _ in pairs}),
        sorted(scopes.partners),
        [partner_id for partner_id, _ in pairs],
        [account_id for _, account_id in pairs],
    ]
    return condition, params


def _status_move(
    *,
    tenant_id: int,
    scopes: HoldScopes,
    from_statuses: tuple[str, ...],
    to_status: str,
    keep: HoldScopes | None = None,
) -> EntryMove:
    """Move the entries in `scopes` with one of `from_statuses` to `to_status`.

    Entries that `keep` covers stay as they are.
    """
    move = EntryMove()
    if scopes.is_empty:
        return move
    condition, params = _scope_sql(scopes)
    sql = f"""
        UPDATE commissions_ledgerentry AS e
           SET status = %s, updated_at = %s
         WHERE e.tenant_id = %s AND e.status = ANY(%s) AND {condition}
    """  # noqa: S608 - the interpolated condition is fixed text from _scope_sql
    values = [to_status, timezone.now(), tenant_id, list(from_statuses), *params]
    if keep is not None and not keep.is_empty:
        keep_condition, keep_params = _scope_sql(keep)
        sql += f" AND NOT {keep_condition}"
        values += keep_params
    sql += " RETURNING e.currency, e.amount"
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        for currency, amount in cursor.fetchall():
            move.count += 1
            move.amounts[currency] = move.amounts.get(currency, Decimal(0)) + amount
    return move


def holds_apply(*, tenant_id: int, partner_ids=None) -> int:
    """Hold the pending entries that open signals of `partner_ids` (or all) cover.

    Also notes on each of those signals how many covered entries were already
    approved or paid, and so were not held. Returns how many entries were held.
    The caller holds the fraud lock.
    """
    signals = FraudSignal.objects.filter(status=FraudSignal.Status.OPEN)
    if partner_ids is not None:
        signals = signals.filter(partner_id__in=partner_ids)
    scopes = scopes_of(_signal_rows(signals))
    held = _status_move(
        tenant_id=tenant_id,
        scopes=scopes_union(scopes.values()),
        from_statuses=(LedgerEntry.Status.PENDING,),
        to_status=LedgerEntry.Status.HELD,
    )
    if held.count:
        logger.info(
            "fraud_hold.applied tenant_id=%s partner_ids=%s entries=%s",
            tenant_id,
            partner_ids,
            held.count,
        )
    _scope_notes(scopes)
    return held.count


def _scope_notes(scopes: dict[int, HoldScopes]) -> None:
    """Write into each signal's summary what its scope contains.

    Every signal gets how many entries it covers were already approved or paid.
    A click flood also gets how many held entries its flooded clicks' deals have,
    or that its clicks led to no customer.
    """
    if not scopes:
        return
    partners = set().union(*(scope.partners for scope in scopes.values()))
    pairs = set().union(*(scope.accounts for scope in scopes.values()))
    counts = (
        LedgerEntry.objects.filter(
            status__in=(*NOT_PAYABLE_STATUSES, LedgerEntry.Status.HELD),
            partner_id__in=partners | {partner_id for partner_id, _ in pairs},
        )
        .values_list("partner_id", "deal__account_id", "status")
        .annotate(entries=Count("id"))
        .order_by()
    )
    not_held = _EntryCounts()
    held = _EntryCounts()
    for partner_id, account_id, status, entries in counts:
        target = held if status == LedgerEntry.Status.HELD else not_held
        target.by_partner[partner_id] += entries
        target.by_pair[(partner_id, account_id)] += entries

    signals = FraudSignal.objects.filter(pk__in=list(scopes)).only("kind", "summary", "details")
    for signal in signals:
        scope = scopes[signal.pk]
        values = {"not_held": not_held.of(scope)}
        if signal.kind == FraudSignal.Kind.CLICK_FLOOD:
            values["held"] = held.of(scope)
            values["reached_accounts"] = len(scope.accounts)
        if all(signal.details.get(key) == value for key, value in values.items()):
            continue
        base = _HOLDS_NOTE.sub("", _NOT_HELD_NOTE.sub("", signal.summary))
        note = ""
        if signal.kind == FraudSignal.Kind.CLICK_FLOOD:
            note = _holds_note(values["held"], reached=values["reached_accounts"])
        count = values["not_held"]
        if count:
            noun, verb = ("entry", "was") if count == 1 else ("entries", "were")
            note += f" {count} {noun} already approved or paid {verb} not held."
        signal.summary = shortened(base, 500 - len(note)) + note
        signal.details = {**signal.details, **values}
        signal.save(update_fields=["summary", "details", "updated_at"])


def _holds_note(held: int, *, reached: int) -> str:
    if not reached:
        return " Holds nothing: none of these clicks led to a customer."
    noun = "entry" if held == 1 else "entries"
    return f" Holds {held} {noun} of deals reached through these clicks."


@dataclass
class _EntryCounts:
    """Ledger entry counts per partner and per (partner, account)."""

    by_partner: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    by_pair: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))

    def of(self, scope: HoldScopes) -> int:
        return sum(self.by_partner[partner_id] for partner_id in scope.partners) + sum(
            self.by_pair[pair] for pair in scope.accounts
        )


def holds_release(*, signal: FraudSignal) -> EntryMove:
    """Return the held entries `signal` covers to pending, unless another open signal covers them.

    The caller holds the fraud lock.
    """
    scope = scopes_of(_signal_rows(FraudSignal.objects.filter(pk=signal.pk)))[signal.pk]
    keep = open_scopes(partner_ids=[signal.partner_id], exclude_signal_id=signal.pk)
    return _status_move(
        tenant_id=signal.tenant_id,
        scopes=scope,
        from_statuses=(LedgerEntry.Status.HELD,),
        to_status=LedgerEntry.Status.PENDING,
        keep=keep,
    )


def holds_void(*, signal: FraudSignal) -> EntryMove:
    """Void the entries `signal` holds.

    Pending entries in its scope are voided too. The lock keeps their number at
    zero, because the scan that raised the signal held them in the same transaction.
    Entries already approved or paid stay as they are. NOTE: confirming fraud does
    not claw back paid commission; a manager adds a negative adjustment for it
    (`commissions.corrections`).
    """
    scope = scopes_of(_signal_rows(FraudSignal.objects.filter(pk=signal.pk)))[signal.pk]
    return _status_move(
        tenant_id=signal.tenant_id,
        scopes=scope,
        from_statuses=(LedgerEntry.Status.PENDING, LedgerEntry.Status.HELD),
        to_status=LedgerEntry.Status.VOID,
    )


def held_deal_ids(*, tenant_id: int, deals: list[dict]) -> set[int]:
    """Return the ids of `deals` whose new accrual must be written held.

    Each dict has the deal's `id` and the credited `partner_id`. Takes the fraud
    lock shared for the caller's transaction, so that a scan or review cannot
    change the open signals before the accruals are committed.
    """
    if not deals:
        return set()
    fraud_lock(tenant_id, shared=True)
    scopes = open_scopes(partner_ids={deal["partner_id"] for deal in deals})
    if scopes.is_empty:
        return set()
    accounts = dict(
        Deal.objects.filter(pk__in=[deal["id"] for deal in deals]).values_list("pk", "account_id")
    )
    return {
        deal["id"] for deal in deals if scopes.covers(deal["partner_id"], accounts.get(deal["id"]))
    }
