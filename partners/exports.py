"""The partner list as CSV: the columns of the page, for the same filters and order."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.db.models import QuerySet

from partners.briefs import csv_cell
from partners.models import Partner

HEADER = [
    "partner_id",
    "external_id",
    "name",
    "kind",
    "status",
    "segment",
    "overlap_score",
    "reach",
    "matched",
    "on_profile_share",
    "target_coverage",
    "won_deals",
    "won_revenue",
    "on_profile_revenue",
    "commission",
    "currency",
]
# Rows fetched from the database per round trip while the response streams.
CHUNK_SIZE = 2000


def _row(partner: Partner, currency: str) -> list:
    return [
        partner.pk,
        partner.external_id,
        partner.name,
        partner.kind,
        partner.status,
        partner.score_segment or "",
        partner.score_overlap_score,
        partner.score_reach_count,
        partner.score_matched_count,
        partner.score_on_profile_share,
        partner.score_target_coverage,
        partner.rollup_won_deals or 0,
        partner.rollup_won_revenue,
        partner.rollup_on_profile_revenue,
        partner.rollup_commission_total,
        currency,
    ]


def partner_list_csv(partners: QuerySet[Partner], *, currency: str) -> Iterator[str]:
    """Yield the CSV text of `partners` (annotated by `partner_list`), header first.

    Text cells that start like a spreadsheet formula are quoted as text. Shares are
    fractions from 0 to 1 and amounts are in `currency`, the tenant's base currency.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(HEADER)
    yield flush()
    iterator = (
        partners.iterator(chunk_size=CHUNK_SIZE) if hasattr(partners, "iterator") else partners
    )
    for partner in iterator:
        writer.writerow([csv_cell(value) for value in _row(partner, currency)])
        yield flush()
