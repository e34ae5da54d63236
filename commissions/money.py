"""Rounding money to a currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from crm.parsing import currency_exponent


def minor_unit(currency: str) -> Decimal:
    """Return the currency's smallest amount, such as 0.01 for USD and 1 for JPY."""
    return Decimal(1).scaleb(-currency_exponent(currency))


def money_round(value: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor unit."""
    return value.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)
