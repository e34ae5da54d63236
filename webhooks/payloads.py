"""The `data` of each event type, read set-based from the committed rows."""

from __future__ import annotations

from collections.abc import Iterable

from commissions.models import LedgerEntry, Payout
from commissions.money import money_round
from crm.models import Deal
from partners.models import PartnerScore


def _money_shown(rows: list[dict], fields: dict[str, str]) -> list[dict]:
    """Give each amount its currency's decimals, as the REST API shows it: 750.00 USD.

    `fields` maps an amount field to the field of its currency code.
    """
    for row in rows:
        for amount, currency in fields.items():
            if row.get(amount) is not None and row.get(currency):
                row[amount] = money_round(row[amount], row[currency])
    return rows


def deal_payloads(deal_ids: Iterable[int]) -> list[dict]:
    """Return the booked won deals with the fit frozen on them, for deal.scored."""
    rows = list(
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
            "tenant__base_currency",
        )
    )
    for row in rows:
        row["base_currency"] = row.pop("tenant__base_currency")
    return _money_shown(rows, {"amount": "currency", "amount_base": "base_currency"})


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
    rows = list(
        LedgerEntry.objects.filter(idempotency_key__in=list(idempotency_keys))
        .order_by("pk")
        .values(*LEDGER_FIELDS)
    )
    return _money_shown(rows, {"amount": "currency", "base_amount": "currency"})


def payout_payloads(payout_ids: Iterable[int]) -> list[dict]:
    """Return the payouts with their approval, for payout.approved."""
    rows = list(
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
    return _money_shown(rows, {"total": "currency"})


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
