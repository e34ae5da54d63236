"""Reads of fraud signals for the review page, the partner page and the API."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)

from attribution.fraud.holds import scopes_of, scopes_union
from attribution.models import Click, FraudSignal, Referral
from commissions.models import LedgerEntry
from partners.models import Partner
from tenancy.errors import NotFound


def fraud_signal_list(
    *, status: str | None = None, kind: str | None = None, partner_id: int | None = None
) -> QuerySet[FraudSignal]:
    """Return the active tenant's signals: open ones first, then newest first."""
    signals = (
        FraudSignal.objects.select_related("partner", "referral", "reviewed_by")
        .annotate(
            open_first=Case(
                When(status=FraudSignal.Status.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("open_first", "-created_at", "-id")
    )
    if status:
        signals = signals.filter(status=status)
    if kind:
        signals = signals.filter(kind=kind)
    if partner_id is not None:
        signals = signals.filter(partner_id=partner_id)
    return signals


def fraud_signal_get(*, pk: int) -> FraudSignal:
    """Return the active tenant's signal `pk`, or raise NotFound."""
    signal = fraud_signal_list().filter(pk=pk).first()
    if signal is None:
        raise NotFound(
            "No fraud signal has this id.",
            field="id",
            value=pk,
            fix="List signals with GET /api/v1/fraud-signals/ to find the id.",
        )
    return signal


def open_signal_count() -> int:
    return FraudSignal.objects.filter(status=FraudSignal.Status.OPEN).count()


@dataclass(frozen=True)
class HeldAmount:
    """The held entries one signal covers in one currency."""

    currency: str
    amount: Decimal
    entries: int


def held_amounts(signals) -> dict[int, list[HeldAmount]]:
    """Return, per signal id, the held entries its scope covers, summed per currency.

    An entry that two open signals cover counts for both. Runs three queries
    however many signals there are.
    """
    rows = [(signal.pk, signal.partner_id, signal.kind, signal.referral_id) for signal in signals]
    if not rows:
        return {}
    scopes = scopes_of(rows)
    union = scopes_union(scopes.values())
    partner_ids = set(union.partners) | {partner_id for partner_id, _ in union.accounts}
    totals = (
        LedgerEntry.objects.filter(status=LedgerEntry.Status.HELD, partner_id__in=partner_ids)
        .values_list("partner_id", "deal__account_id", "currency")
        .annotate(entries=Count("id"), amount=Sum("amount"))
        .order_by()
    )
    by_partner: dict[int, list[tuple]] = defaultdict(list)
    for partner_id, account_id, currency, entries, amount in totals:
        by_partner[partner_id].append((account_id, currency, entries, amount))

    amounts: dict[int, list[HeldAmount]] = {}
    for signal_id, scope in scopes.items():
        sums: dict[str, list] = {}
        for partner_id in scope.partners | {partner_id for partner_id, _ in scope.accounts}:
            for account_id, currency, entries, amount in by_partner.get(partner_id, ()):
                if scope.covers(partner_id, account_id):
                    total = sums.setdefault(currency, [Decimal(0), 0])
                    total[0] += amount
                    total[1] += entries
        amounts[signal_id] = [
            HeldAmount(currency=currency, amount=amount, entries=entries)
            for currency, (amount, entries) in sorted(sums.items())
        ]
    return amounts


def partners_active_since(*, since) -> list[int]:
    """Return the ids of the active tenant's partners with clicks or registrations since `since`.

    A registration counts when it is dated or was written from `since` on, so an
    import of older registrations is scanned too. Each check is an index probe
    per partner.
    """
    clicks = Click.objects.filter(partner_id=OuterRef("pk"), clicked_at__gte=since)
    referrals = Referral.objects.filter(partner_id=OuterRef("pk")).filter(
        Q(registered_at__gte=since) | Q(created_at__gte=since)
    )
    return list(
        Partner.objects.filter(Exists(clicks) | Exists(referrals))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
