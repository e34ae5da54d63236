"""Score reach entries that match no account against the active ICP, on their own firmographics.

A partner may send industry, employees, annual revenue, country, region and tech
stack with each reach entry. An entry that matches no account and has at least one
of them is scored with `icp.scoring.score_frame`, vectorised over a chunk of
entries, exactly as an account with the same values would be. The entry carries no
year established, budget, deal size or buying triggers, so criteria on those never
match it: a missing value never matches, and a knock-out on it does not knock the
entry out. An entry with none of the six fields is left unscored, and a matched
entry uses its account's fit, so the refresh clears the fit of both.
"""

from __future__ import annotations

import logging

import numpy as np
from django.db import connection
from django.db.models import Q

from icp.models import IcpVersion
from icp.scoring import accounts_frame, frame_trigger_names, score_frame
from partners.models import ReachEntry

logger = logging.getLogger(__name__)

FIRMOGRAPHIC_FIELDS = ("industry", "employees", "annual_revenue", "country", "region", "tech_stack")
# Entries scored per frame. Each frame is scored and written in one statement.
CHUNK_SIZE = 50_000

_REACH_TABLE = ReachEntry._meta.db_table


def has_firmographics() -> Q:
    """Return the filter of reach entries that carry at least one firmographic value."""
    return (
        ~Q(industry="")
        | Q(employees__isnull=False)
        | Q(annual_revenue__isnull=False)
        | ~Q(country="")
        | ~Q(region="")
        | ~Q(tech_stack=[])
    )


def reach_entries_score(rows: list[dict], version: IcpVersion, as_of):
    """Score reach entries (dicts of id and firmographics) against `version`.

    Returns the frame of `icp.scoring.score_frame`: `score`, `tier` and `knocked_out`.
    """
    frame = accounts_frame(rows, trigger_names=frame_trigger_names(version.criteria))
    return score_frame(frame, version.criteria, version.tier_cutoffs, as_of=as_of)


def reach_fits_refresh(
    *, tenant_id: int, version: IcpVersion | None, partner_ids: list[int], as_of
) -> int:
    """Score the unmatched reach entries of `partner_ids` and write the fits that changed.

    Clears the fit of entries that are matched or carry no firmographics, and of every
    entry when no version is active. Returns how many entries got a new fit. Runs in
    the caller's transaction and the active tenant scope.
    """
    entries = ReachEntry.objects.filter(partner_id__in=partner_ids)
    stale = entries.exclude(fit_score=None, fit_tier="", fit_version=None)
    if version is None:
        stale.update(fit_score=None, fit_tier="", fit_version=None)
        return 0
    stale.filter(Q(account__isnull=False) | ~has_firmographics()).update(
        fit_score=None, fit_tier="", fit_version=None
    )

    unmatched = entries.filter(has_firmographics(), account__isnull=True).order_by("pk")
    columns = ("id", *FIRMOGRAPHIC_FIELDS)
    written = 0
    last_id = 0
    while True:
        rows = list(unmatched.filter(pk__gt=last_id).values(*columns)[:CHUNK_SIZE])
        if not rows:
            break
        scored = reach_entries_score(rows, version, as_of)
        written += _fits_write(
            tenant_id=tenant_id,
            version_id=version.pk,
            ids=np.fromiter((row["id"] for row in rows), dtype="int64", count=len(rows)),
            scores=scored["score"].to_numpy(),
            tiers=scored["tier"].to_numpy(),
        )
        last_id = rows[-1]["id"]
        if len(rows) < CHUNK_SIZE:
            break
    return written


def _fits_write(*, tenant_id: int, version_id: int, ids, scores, tiers) -> int:
    """Write the fits of the given entries in one UPDATE, skipping entries already equal."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {_REACH_TABLE} AS entry
               SET fit_score = fit.score, fit_tier = fit.tier, fit_version_id = %s
              FROM unnest(%s::bigint[], %s::smallint[], %s::varchar[]) AS fit(id, score, tier)
             WHERE entry.tenant_id = %s AND entry.id = fit.id
               AND (entry.fit_score IS DISTINCT FROM fit.score
                    OR entry.fit_tier IS DISTINCT FROM fit.tier
                    OR entry.fit_version_id IS DISTINCT FROM %s)
            """,  # noqa: S608 - the only interpolation is the fixed table name
            [
                version_id,
                [int(value) for value in ids],
                [int(value) for value in scores],
                [str(value) for value in tiers],
                tenant_id,
                version_id,
            ],
        )
        return cursor.rowcount
