"""Per-partner roll-ups of delivered results, refreshed by the pipeline."""

from __future__ import annotations

from django.db import models

from tenancy.models import TenantOwnedModel


class PartnerRollup(TenantOwnedModel):
    """A partner's delivered results: won deals and revenue, split by ICP tier."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    won_deals = models.PositiveIntegerField(default=0)
    won_revenue = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    # Won revenue on accounts that were tier A or B when the deal was won.
    on_profile_revenue = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    # {"A": {"deals": n, "revenue": "123.00"}, ...} with tier frozen at won time.
    tier_mix = models.JSONField(default=dict)
    lost_deals = models.PositiveIntegerField(default=0)
    commission_total = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    refreshed_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "partner"], name="rollup_unique_partner"),
        ]
