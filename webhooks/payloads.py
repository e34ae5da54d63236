"""The `data` of each event type, read set-based from the committed rows."""

from __future__ import annotations

from collections.abc import Iterable

from commissions.models import LedgerEntry, Payout
from crm.models import Deal
from partners.models import PartnerScore


def deal_payloads(deal_ids: Iterable[int]) -> list[dict]:
    """Return the booked won deals with the fit frozen on them, for deal.scored."""
    return list(
        Deal.objects.filter(pk__in=list(deal_ids))
        .order_by("pk")
        .values(
            "id",
            "external_id",
            "account_id",
            "partner_id",
            "source",
            "amount",
            "currency",
            "amount_base",
            "close_date",
            "won_fit_score",
            "won_fit_tier",
            "won_fit_version_id",
            "processed_at",
        )
    )


LEDGER_FIELDS = (
    "id",
    "kind",
    "status",
    "partner_id",
    "deal_id",
    "reverses_id",
    "amount",
    "currency",
    "base_amount",
    "rate",
    "multiplier",
    "fit_tier",
    "fit_score",
    "icp_version_id",
    "idempotency_key",
    "created_at",
)


def ledger_entry_payloads(idempotency_keys: Iterable[str]) -> list[dict]:
    """Return the ledger entries with these keys, for commission.created and .reversed."""
    return list(
        LedgerEntry.objects.filter(idempotency_key__in=list(idempotency_keys))
        .order_by("pk")
        .values(*LEDGER_FIELDS)
    )


def payout_payloads(payout_ids: Iterable[int]) -> list[dict]:
    """Return the payouts with their approval, for payout.approved."""
    return list(
        Payout.objects.filter(pk__in=list(payout_ids))
        .order_by("pk")
        .values(
            "id",
            "partner_id",
            "period_start",
            "period_end",
            "currency",
            "status",
            "total",
            "entry_count",
            "approved_at",
        )
    )


def partner_score_payloads(partner_ids: Iterable[int]) -> list[dict]:
    """Return each partner's latest score, for partner.scored."""
    return list(
        PartnerScore.objects.filter(partner_id__in=list(partner_ids))
        .order_by("partner_id", "-computed_at", "-pk")
        .distinct("partner_id")
        .values(
            "partner_id",
            "icp_version_id",
            "overlap_score",
            "on_profile_share",
            "target_coverage",
            "reach_count",
            "matched_count",
            "won_deal_count",
            "win_rate",
            "segment",
            "computed_at",
        )
    )
