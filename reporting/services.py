"""Refresh the per-partner roll-ups of delivered results."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from commissions.models import LedgerEntry
from crm.amounts import amount_in_base
from crm.models import Deal
from reporting.models import PartnerRollup
from tenancy.scope import current_tenant_id

logger = logging.getLogger(__name__)

ON_PROFILE_TIERS = ("A", "B")
# First key of the advisory lock taken per tenant while its roll-ups are refreshed.
ROLLUP_LOCK_CLASS = 36001
TIERS = ("A", "B", "C", "D")


@transaction.atomic
def partner_rollups_refresh(*, partner_ids: list[int] | None = None) -> int:
    """Recompute roll-ups of the active tenant's partners (all, or `partner_ids`)."""
    tenant_id = current_tenant_id()
    # Without this lock, two pipeline chunks for the same partner would each compute
    # totals from their own snapshot, and the last to commit would win.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ROLLUP_LOCK_CLASS, tenant_id])
    deals = Deal.objects.filter(partner__isnull=False)
    if partner_ids is not None:
        deals = deals.filter(partner_id__in=partner_ids)

    by_tier = (
        deals.filter(stage=Deal.Stage.WON)
        .values("partner_id", "won_fit_tier")
        .annotate(deals=Count("id"), revenue=Sum(amount_in_base()))
    )
    lost = dict(
        deals.filter(stage=Deal.Stage.LOST)
        .values("partner_id")
        .annotate(n=Count("id"))
        .values_list("partner_id", "n")
    )
    ledger = LedgerEntry.objects.exclude(status=LedgerEntry.Status.VOID)
    if partner_ids is not None:
        ledger = ledger.filter(partner_id__in=partner_ids)
    commission = dict(
        ledger.values("partner_id").annotate(total=Sum("amount")).values_list("partner_id", "total")
    )

    rollups: dict[int, dict] = {}
    for row in by_tier:
        rollup = rollups.setdefault(
            row["partner_id"],
            {
                "won_deals": 0,
                "won_revenue": Decimal(0),
                "on_profile_revenue": Decimal(0),
                "tier_mix": {},
            },
        )
        tier = row["won_fit_tier"] or "unscored"
        rollup["won_deals"] += row["deals"]
        rollup["won_revenue"] += row["revenue"]
        if tier in ON_PROFILE_TIERS:
            rollup["on_profile_revenue"] += row["revenue"]
        rollup["tier_mix"][tier] = {"deals": row["deals"], "revenue": str(row["revenue"])}

    touched = set(rollups) | set(lost) | set(commission)
    if partner_ids is not None:
        touched |= set(partner_ids)
    now = timezone.now()
    objects = []
    for partner_id in touched:
        values = rollups.get(partner_id, {})
        objects.append(
            PartnerRollup(
                tenant_id=tenant_id,
                partner_id=partner_id,
                won_deals=values.get("won_deals", 0),
                won_revenue=values.get("won_revenue", Decimal(0)),
                on_profile_revenue=values.get("on_profile_revenue", Decimal(0)),
                tier_mix=values.get("tier_mix", {}),
                lost_deals=lost.get(partner_id, 0),
                commission_total=commission.get(partner_id) or Decimal(0),
                refreshed_at=now,
            )
        )
    PartnerRollup.objects.bulk_create(
        objects,
        update_conflicts=True,
        unique_fields=["tenant", "partner"],
        update_fields=[
            "won_deals",
            "won_revenue",
            "on_profile_revenue",
            "tier_mix",
            "lost_deals",
            "commission_total",
            "refreshed_at",
            "updated_at",
        ],
    )
    logger.info("rollups.refreshed tenant_id=%s partners=%s", tenant_id, len(objects))
    return len(objects)
