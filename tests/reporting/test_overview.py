"""Overview numbers of the dashboard: on-profile share, average fit and pending commissions."""

from __future__ import annotations

from decimal import Decimal

from commissions.models import LedgerEntry
from crm.models import Deal
from reporting.overview import PendingCommission, fit_overview, pending_commissions
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory, PartnerFactory
from tests.web.data import ledger_entry_create

PARTNER = Deal.Source.PARTNER
DIRECT = Deal.Source.DIRECT


def won(account, *, source, amount, tier="", score=None, **values):
    return DealFactory(
        account=account,
        source=source,
        amount=Decimal(amount),
        won_fit_tier=tier,
        won_fit_score=score,
        **values,
    )


def test_fit_overview_exact_values(scoped, other_tenant):
    account = AccountFactory()
    won(account, source=PARTNER, amount="1000.00", tier="A", score=90)
    won(account, source=PARTNER, amount="3000.00", tier="B", score=70)
    won(account, source=PARTNER, amount="2000.00", tier="C", score=30)
    won(account, source=PARTNER, amount="4000.00")
    # A EUR deal counts its converted amount, 1,100.00 USD.
    won(
        account,
        source=PARTNER,
        amount="1000.00",
        currency="EUR",
        amount_base=Decimal("1100.0000"),
        tier="A",
        score=80,
    )
    won(account, source=DIRECT, amount="500.00", tier="A", score=85)
    won(account, source=DIRECT, amount="700.00", tier="D", score=10)
    DealFactory(account=account, source=PARTNER, stage=Deal.Stage.LOST, amount=Decimal("9999.00"))
    with tenant_scope(other_tenant):
        won(AccountFactory(), source=PARTNER, amount="50000.00", tier="A", score=100)

    result = fit_overview()

    # 1,000 + 3,000 + 2,000 + 4,000 + 1,100
    assert result.partner_revenue == Decimal("11100.00")
    # Tiers A and B: 1,000 + 3,000 + 1,100
    assert result.on_profile_revenue == Decimal("5100.00")
    # 5,100 / 11,100 = 45.945...%
    assert result.on_profile_percent == Decimal("45.9")
    # (90 + 70 + 30 + 80) / 4, leaving out the unscored win.
    assert result.partner_average_fit == Decimal("67.5")
    assert result.partner_scored_wins == 4
    # (85 + 10) / 2
    assert result.direct_average_fit == Decimal("47.5")
    assert result.direct_scored_wins == 2


def test_fit_overview_without_wins(scoped):
    DealFactory(account=AccountFactory(), source=PARTNER, stage=Deal.Stage.LOST)

    result = fit_overview()

    assert result.partner_revenue == Decimal(0)
    assert result.on_profile_percent is None
    assert result.partner_average_fit is None
    assert result.direct_average_fit is None
    assert result.partner_scored_wins == 0


def test_pending_commissions_per_currency(scoped, other_tenant):
    partner = PartnerFactory()
    statuses = LedgerEntry.Status
    for key, amount, currency, status in [
        ("usd-pending", "100.00", "USD", statuses.PENDING),
        ("usd-held", "50.00", "USD", statuses.HELD),
        ("usd-reversal", "-20.00", "USD", statuses.PENDING),
        ("usd-approved", "999.00", "USD", statuses.APPROVED),
        ("usd-paid", "888.00", "USD", statuses.PAID),
        ("usd-void", "777.00", "USD", statuses.VOID),
        ("eur-pending", "30.00", "EUR", statuses.PENDING),
    ]:
        ledger_entry_create(
            partner=partner,
            idempotency_key=key,
            amount=Decimal(amount),
            currency=currency,
            status=status,
        )
    with tenant_scope(other_tenant):
        ledger_entry_create(
            partner=PartnerFactory(), idempotency_key="other", amount=Decimal("5.00")
        )

    result = pending_commissions()

    assert result == [
        PendingCommission("EUR", Decimal("30.00"), Decimal("0"), 1),
        PendingCommission("USD", Decimal("80.00"), Decimal("50.00"), 3),
    ]
    assert result[1].total == Decimal("130.00")


def test_pending_commissions_empty(scoped):
    assert pending_commissions() == []
