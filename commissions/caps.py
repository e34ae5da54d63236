"""The cap on what one partner earns per period under a plan.

A plan's `cap_per_partner` bounds the sum of a partner's accruals whose deals
closed in one cap period (calendar month, quarter or year). Accruals count
whatever plan wrote them, in the entry's currency, and void ones do not. Writers
take a PostgreSQL advisory lock per partner first, so two workers booking deals
of one partner cannot both spend the last of its cap.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Sum

from commissions.models import CommissionPlan, LedgerEntry
from commissions.money import money_round
from commissions.pricing import DealFacts, Price, cap_period_bounds

# First key of the advisory lock held per partner while its capped accruals are written.
CAP_LOCK_CLASS = 36010


class PartnerCaps:
    """Tracks what each partner has earned per cap period while a batch is priced."""

    def __init__(self, plan: CommissionPlan):
        self.plan = plan
        self.used: dict[tuple[int, datetime.date, str], Decimal] = {}

    def lock(self, *, partner_ids) -> None:
        """Take the partners' cap locks in id order, for the rest of the transaction."""
        if self.plan.cap_per_partner is None:
            return
        with connection.cursor() as cursor:
            for partner_id in sorted(partner_ids):
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [CAP_LOCK_CLASS, partner_id])

    def earned(self, *, partner_id: int, day: datetime.date, currency: str) -> Decimal:
        """Return what the partner has earned in the cap period of `day`, in `currency`."""
        start, end = cap_period_bounds(self.plan, day)
        key = (partner_id, start, currency)
        if key not in self.used:
            self.used[key] = LedgerEntry.objects.filter(
                partner_id=partner_id,
                kind=LedgerEntry.Kind.ACCRUAL,
                currency=currency,
                deal__close_date__range=(start, end),
            ).exclude(status=LedgerEntry.Status.VOID).aggregate(total=Sum("amount"))[
                "total"
            ] or Decimal(0)
        return self.used[key]

    def apply(self, price: Price, facts: DealFacts) -> None:
        """Lower the price to what is left of the partner's cap, and count it as earned."""
        cap = self.plan.cap_per_partner
        if cap is None:
            return
        earned = self.earned(
            partner_id=facts.partner_id, day=facts.close_date, currency=facts.currency
        )
        start, end = cap_period_bounds(self.plan, facts.close_date)
        price.cap_to(
            cap - earned,
            f"Capped at what is left of the partner's {cap} {facts.currency} for "
            f"{start} to {end}: {money_round(max(cap - earned, Decimal(0)), facts.currency)}.",
            facts.currency,
        )
        self.used[(facts.partner_id, start, facts.currency)] = earned + price.amount

    def remaining(self, *, partner_id: int, day: datetime.date, currency: str) -> Decimal | None:
        """Return what is left of the partner's cap in the period of `day`, or None."""
        if self.plan.cap_per_partner is None:
            return None
        earned = self.earned(partner_id=partner_id, day=day, currency=currency)
        return max(self.plan.cap_per_partner - earned, Decimal(0))
