"""Tenant exchange rates, which convert deal amounts into the tenant's base currency."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenancy.models import TenantOwnedModel


class ExchangeRate(TenantOwnedModel):
    """Units of the tenant's base currency per 1 unit of `currency`, valid from `rate_date`.

    A lookup for a date uses the latest rate on or before it, up to
    `commissions.fx.MAX_RATE_AGE_DAYS` older. Ledger entries store the rate they were
    booked with, so changing or deleting a rate leaves them as they are.
    """

    # ISO 4217 code, upper case; never the tenant's base currency (checked by the service).
    currency = models.CharField(max_length=3)
    rate_date = models.DateField()
    rate = models.DecimalField(max_digits=18, decimal_places=8)
    # Where the rate came from, such as "ECB", "manual" or "import".
    source = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "currency", "rate_date"],
                name="exchange_rate_unique_currency_date",
            ),
            models.CheckConstraint(
                condition=models.Q(rate__gt=0), name="exchange_rate_rate_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"),
                name="exchange_rate_currency_iso_code",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate_date} {self.rate}"
