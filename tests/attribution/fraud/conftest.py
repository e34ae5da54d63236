"""Fixtures and helpers for the fraud tests: partners, clicks, registrations and entries."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

import pytest

from attribution.fraud.rules import RuleInput
from attribution.models import Click
from commissions.models import LedgerEntry
from tests.factories import PartnerFactory, TrackingLinkFactory

# A fixed Monday morning, so windows and buckets do not depend on when tests run.
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
_click_ids = itertools.count()


@pytest.fixture
def partner(scoped):
    return PartnerFactory(name="Northwind Referrals", domain="https://www.Northwind.com/")


def clicks_add(partner, times, *, ip_hash: str = "", visitor_id: str = "") -> list[Click]:
    """Write one click per time; the source is shared when given, else unique per click."""
    link = TrackingLinkFactory(partner=partner)
    clicks = []
    for moment in times:
        number = next(_click_ids)
        clicks.append(
            Click(
                tenant_id=partner.tenant_id,
                link=link,
                partner=partner,
                clicked_at=moment,
                visitor_id=visitor_id or f"visitor-{number}",
                ip_hash=ip_hash or f"{number:064x}",
                click_id=f"test-click-{number}",
            )
        )
    return Click.objects.bulk_create(clicks)


def minutes(start: datetime.datetime, count: int, *, step: float = 0.25) -> list:
    """Return `count` moments from `start`, `step` minutes apart."""
    return [start + datetime.timedelta(minutes=step * index) for index in range(count)]


def rule_input(*partners, since=None) -> RuleInput:
    return RuleInput(
        tenant_id=partners[0].tenant_id,
        partner_ids=tuple(partner.pk for partner in partners),
        since=since,
    )


def entry_create(partner, deal, *, status=LedgerEntry.Status.PENDING, amount="150.00", **values):
    """Write one accrual of `partner` on `deal` in the active tenant scope."""
    defaults = {
        "idempotency_key": f"test:{partner.pk}:{deal.pk if deal else 'none'}:{status}",
        "base_amount": Decimal("1000.00"),
        "rate": Decimal("0.1000"),
        "multiplier": Decimal("1.50"),
        "fit_tier": "A",
        "fit_score": 90,
        "amount": Decimal(amount),
        "currency": "USD",
    }
    return LedgerEntry.objects.create(
        partner=partner, deal=deal, status=status, **{**defaults, **values}
    )
