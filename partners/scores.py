"""Compute and store PartnerScore rows: overlap parts, delivered results and segment.

`partners.services.partner_scores_refresh` calls `partner_scores_write` once per
chunk of partners, each in its own transaction. A chunk scores the unmatched reach
(`partners.reach_scoring`), counts the overlap parts in one SQL statement, reads the
results (`partners.quality`), picks the segment (`partners.segments`) and upserts
one row per partner. The rows depend only on the stored data, so writing a chunk
twice gives the same values, and a refresh killed between chunks leaves whole
chunks written.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.db import connection

from crm.amounts import amount_in_base_sql
from crm.models import Account, Deal
from icp.models import IcpVersion
from partners.models import PartnerScore
from partners.overlap import ON_PROFILE_TIERS, overlap_score
from partners.quality import partner_quality
from partners.reach_scoring import reach_fits_refresh
from partners.segments import segment_decide

logger = logging.getLogger(__name__)

# Partners per chunk, and per transaction.
CHUNK_SIZE = 500
# First key of the advisory lock a chunk holds on its tenant's scores, so two
# refreshes of one tenant write their chunks one after the other.
SCORE_LOCK_CLASS = 36002
_PER_ENTRY_PLACES = Decimal("0.0001")
_CENTS = Decimal("0.01")

AMOUNT = amount_in_base_sql("open_deal")

_OVERLAP_SQL = f"""
WITH reach AS (
    SELECT r.partner_id,
           r.account_id,
           CASE WHEN r.account_id IS NULL THEN r.fit_tier ELSE a.fit_tier END AS tier,
           CASE WHEN r.account_id IS NULL THEN r.fit_score ELSE a.fit_score END AS score,
           a.churned_on,
           EXISTS (
               SELECT 1 FROM crm_deal AS won
                WHERE won.tenant_id = r.tenant_id AND won.account_id = r.account_id
                  AND won.stage = 'won'
           ) AS won,
           (
               SELECT sum({AMOUNT}) FROM crm_deal AS open_deal
                WHERE open_deal.tenant_id = r.tenant_id
                  AND open_deal.account_id = r.account_id
                  AND open_deal.stage = 'open'
           ) AS open_amount
      FROM partners_reachentry AS r
      LEFT JOIN crm_account AS a ON a.tenant_id = r.tenant_id AND a.id = r.account_id
     WHERE r.tenant_id = %(tenant_id)s AND r.partner_id = ANY(%(partner_ids)s)
)
SELECT partner_id,
       count(*) AS reach_count,
       count(*) FILTER (WHERE account_id IS NOT NULL) AS matched_count,
       count(*) FILTER (WHERE account_id IS NOT NULL OR score IS NOT NULL) AS assessed_count,
       count(*) FILTER (WHERE tier = ANY(%(on_profile)s)) AS on_profile_count,
       count(*) FILTER (WHERE account_id IS NULL AND score IS NOT NULL)
           AS unmatched_scored_count,
       count(*) FILTER (WHERE account_id IS NULL AND tier = ANY(%(on_profile)s))
           AS unmatched_on_profile_count,
       count(*) FILTER (
           WHERE account_id IS NOT NULL AND tier = ANY(%(on_profile)s) AND NOT won
       ) AS target_overlap_count,
       count(*) FILTER (WHERE open_amount IS NOT NULL) AS pipeline_overlap_count,
       coalesce(sum(open_amount), 0) AS pipeline_overlap_amount,
       count(*) FILTER (WHERE won AND churned_on IS NULL) AS customer_overlap_count,
       coalesce(sum(score), 0) AS fit_score_sum
  FROM reach
 GROUP BY partner_id
"""  # noqa: S608 - AMOUNT is a fixed SQL fragment

_EMPTY_REACH = {
    "reach_count": 0,
    "matched_count": 0,
    "assessed_count": 0,
    "on_profile_count": 0,
    "unmatched_scored_count": 0,
    "unmatched_on_profile_count": 0,
    "target_overlap_count": 0,
    "pipeline_overlap_count": 0,
    "pipeline_overlap_amount": Decimal("0.00"),
    "customer_overlap_count": 0,
    "fit_score_sum": 0,
}


@dataclass(frozen=True)
class RefreshContext:
    """Values that every chunk of one refresh shares: the version, targets and time."""

    tenant_id: int
    version: IcpVersion | None
    # The tenant's open target accounts: tier A or B, with no won deal.
    target_count: int
    # The date buying-trigger criteria count back from.
    as_of: datetime.date
    computed_at: datetime.datetime


def target_count() -> int:
    """Count the active tenant's open target accounts: tier A or B and no won deal."""
    won_accounts = Deal.objects.filter(stage=Deal.Stage.WON).values("account_id")
    return (
        Account.objects.filter(fit_tier__in=ON_PROFILE_TIERS).exclude(pk__in=won_accounts).count()
    )


def _overlap_rows(tenant_id: int, partner_ids: list[int]) -> dict[int, dict]:
    params = {
        "tenant_id": tenant_id,
        "partner_ids": partner_ids,
        "on_profile": list(ON_PROFILE_TIERS),
    }
    with connection.cursor() as cursor:
        cursor.execute(_OVERLAP_SQL, params)
        names = [column.name for column in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def _overlap_fields(row: dict, target_total: int) -> dict:
    """Return the PartnerScore overlap fields of one partner's reach counts."""
    score = overlap_score(
        row["on_profile_count"],
        row["assessed_count"],
        row["target_overlap_count"],
        target_total,
    )
    fit_weighted = Decimal(row["fit_score_sum"]) / 100
    per_entry = fit_weighted / row["reach_count"] if row["reach_count"] else Decimal(0)
    return {
        "reach_count": row["reach_count"],
        "matched_count": row["matched_count"],
        "assessed_count": row["assessed_count"],
        "on_profile_count": row["on_profile_count"],
        "on_profile_share": score.share,
        "unmatched_scored_count": row["unmatched_scored_count"],
        "unmatched_on_profile_count": row["unmatched_on_profile_count"],
        "target_count": target_total,
        "target_overlap_count": row["target_overlap_count"],
        "target_coverage": score.coverage,
        "pipeline_overlap_count": row["pipeline_overlap_count"],
        "pipeline_overlap_amount": Decimal(row["pipeline_overlap_amount"]).quantize(_CENTS),
        "customer_overlap_count": row["customer_overlap_count"],
        "fit_weighted_reach": fit_weighted.quantize(_CENTS),
        "fit_weighted_per_entry": per_entry.quantize(_PER_ENTRY_PLACES),
        "on_profile_points": score.on_profile_points,
        "coverage_points": score.coverage_points,
        "overlap_score": score.points,
    }


# Every PartnerScore column a refresh writes, besides the tenant and partner.
SCORE_COLUMNS = (
    "icp_version",
    "reach_count",
    "matched_count",
    "assessed_count",
    "on_profile_count",
    "on_profile_share",
    "unmatched_scored_count",
    "unmatched_on_profile_count",
    "target_count",
    "target_overlap_count",
    "target_coverage",
    "pipeline_overlap_count",
    "pipeline_overlap_amount",
    "customer_overlap_count",
    "fit_weighted_reach",
    "fit_weighted_per_entry",
    "on_profile_points",
    "coverage_points",
    "overlap_score",
    "won_deal_count",
    "lost_deal_count",
    "win_rate",
    "won_revenue",
    "on_profile_won_revenue",
    "customer_count",
    "customer_tiers",
    "on_profile_customer_share",
    "churned_customer_count",
    "churn_rate",
    "commission_cost",
    "lifetime_value",
    "commission_to_lifetime_value",
    "segment",
    "segment_basis",
    "computed_at",
)


def scores_lock(tenant_id: int) -> None:
    """Wait for and take the tenant's score lock until the transaction ends.

    Take it first in a chunk's transaction, before any reach entry is updated, so
    two refreshes never wait on each other's row locks.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SCORE_LOCK_CLASS, tenant_id])


def partner_scores_write(*, context: RefreshContext, partner_ids: list[int]) -> int:
    """Compute and upsert the scores of one chunk of partners; return the rows written.

    Call it inside a transaction, in the tenant's scope, holding `scores_lock`, after
    the chunk's reach entries are matched to accounts.
    """
    reach_fits_refresh(
        tenant_id=context.tenant_id,
        version=context.version,
        partner_ids=partner_ids,
        as_of=context.as_of,
    )
    overlap = _overlap_rows(context.tenant_id, partner_ids)
    quality = partner_quality(tenant_id=context.tenant_id, partner_ids=partner_ids)

    scores = []
    for partner_id in partner_ids:
        score = PartnerScore(
            tenant_id=context.tenant_id,
            partner_id=partner_id,
            icp_version=context.version,
            computed_at=context.computed_at,
            **_overlap_fields(overlap.get(partner_id, _EMPTY_REACH), context.target_count),
            **asdict(quality[partner_id]),
        )
        decision = segment_decide(score)
        score.segment = decision.segment
        score.segment_basis = decision.basis
        scores.append(score)

    PartnerScore.objects.bulk_create(
        scores,
        update_conflicts=True,
        unique_fields=["tenant", "partner"],
        update_fields=[*SCORE_COLUMNS, "updated_at"],
    )
    return len(scores)
