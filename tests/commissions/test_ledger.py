from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from commissions.models import LedgerEntry
from commissions.plans import commission_plan_activate
from commissions.services import commission_amount
from tenancy.errors import DomainError
from tests.factories import PartnerFactory


@pytest.mark.parametrize(
    ("base", "rate", "multiplier", "currency", "expected"),
    [
        pytest.param("0.05", "0.1000", "1.00", "USD", "0.01", id="half-up-not-bankers"),
        pytest.param("1000.00", "0.1000", "1.50", "USD", "150.00", id="tier-a"),
        pytest.param("1001", "0.1000", "0.50", "JPY", "50", id="zero-decimal-currency"),
        pytest.param("10.005", "1.0000", "1.00", "KWD", "10.005", id="three-decimal-currency"),
        pytest.param("999.99", "0.0750", "1.00", "EUR", "75.00", id="rounds-74.99925"),
    ],
)
def test_commission_amount_rounding(base, rate, multiplier, currency, expected):
    amount = commission_amount(
        base_amount=Decimal(base),
        rate=Decimal(rate),
        multiplier=Decimal(multiplier),
        currency=currency,
    )

    assert amount == Decimal(expected)
    assert str(amount) == expected


def _entry(tenant, partner, key="k1"):
    return LedgerEntry.objects.create(
        tenant=tenant, partner=partner, idempotency_key=key, base_amount=Decimal("100.00"),
        rate=Decimal("0.1"), multiplier=Decimal("1"), amount=Decimal("10.00"), currency="USD",
    )  # fmt: skip


def test_ledger_rejects_amount_update(scoped):
    entry = _entry(scoped, PartnerFactory(tenant=scoped))

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("99.00"))


def test_ledger_allows_status_change(scoped):
    entry = _entry(scoped, PartnerFactory(tenant=scoped))

    LedgerEntry.objects.filter(pk=entry.pk).update(status=LedgerEntry.Status.APPROVED)

    entry.refresh_from_db()
    assert entry.status == LedgerEntry.Status.APPROVED


def test_ledger_rejects_delete(scoped):
    entry = _entry(scoped, PartnerFactory(tenant=scoped))

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()


def test_ledger_idempotency_key_unique_per_tenant(scoped, other_tenant):
    partner = PartnerFactory(tenant=scoped)
    _entry(scoped, partner)
    _entry(other_tenant, PartnerFactory(tenant=other_tenant))

    with pytest.raises(IntegrityError), transaction.atomic():
        _entry(scoped, partner)


def test_plan_activate_keeps_one_active(scoped):
    first = commission_plan_activate(tenant=scoped, name="Old", base_rate=Decimal("0.05"))
    second = commission_plan_activate(tenant=scoped, name="New", base_rate=Decimal("0.10"))

    first.refresh_from_db()
    assert first.is_active is False
    assert second.is_active is True


def test_plan_rejects_rate_above_one(scoped):
    with pytest.raises(DomainError) as error:
        commission_plan_activate(tenant=scoped, name="Bad", base_rate=Decimal("10"))

    assert error.value.field == "base_rate"
    assert "fraction between 0 and 1" in error.value.fix
