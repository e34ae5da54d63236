"""Serializer fields shared by the API."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.parsing import currency_exponent


def _lookup(instance, path: str):
    for part in path.split("."):
        if instance is None:
            return None
        instance = instance.get(part) if isinstance(instance, dict) else getattr(instance, part)
    return instance


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "nullable": True,
        "example": "1234.50",
        "description": "An exact amount with as many decimals as its currency's minor unit.",
    }
)
class MoneyField(serializers.Field):
    """A read-only amount rendered with its currency's decimals: 1234.50 USD, 1234 JPY, 1.234 KWD.

    `currency_path` names the attribute (dotted for nested objects) of the serialized
    object that holds the ISO 4217 code. Amounts are stored with up to 4 decimals,
    and an amount finer than the minor unit is rounded half up.
    """

    def __init__(self, *, currency_path: str = "currency", fallback_path: str = "", **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self.currency_path = currency_path
        self.fallback_path = fallback_path

    def get_attribute(self, instance):
        value = super().get_attribute(instance)
        currency = _lookup(instance, self.currency_path)
        if not currency and self.fallback_path:
            currency = _lookup(instance, self.fallback_path)
        return value, currency

    def to_representation(self, pair):
        value, currency = pair
        if value is None:
            return None
        value = Decimal(value)
        if not currency:
            return str(value)
        quantum = Decimal(1).scaleb(-currency_exponent(currency))
        return str(value.quantize(quantum, rounding=ROUND_HALF_UP))
