"""CSV import of partners' reach lists: one company a line, matched to accounts by domain.

Lines are merged into each partner's list by domain, so importing a file twice
adds nothing. The shared CSV machinery lives in `crm.importing`.
"""

from __future__ import annotations

from functools import partial

from crm import parsing
from crm.importing import Column, ParsedFile, reject_duplicates
from partners.models import Partner, ReachEntry
from tenancy.queue import enqueue_on_commit

REACH_COLUMNS = (
    Column("partner_external_id", partial(parsing.parse_text, max_length=100), required=True),
    Column("domain", parsing.parse_domain, required=True, aliases=("website",)),
    Column("company_name", partial(parsing.parse_text, max_length=255), aliases=("name",)),
)


def check_reach(tenant, parsed: ParsedFile) -> None:
    for _, row in parsed.rows:
        row["pair"] = f"{row['partner_external_id']} {row['domain']}"
    reject_duplicates(parsed, "pair", column="domain", label="partner and domain")
    partner_ids = {row["partner_external_id"] for _, row in parsed.rows}
    partners = dict(
        Partner.objects.filter(external_id__in=partner_ids).values_list("external_id", "id")
    )
    valid_rows = []
    for line, row in parsed.rows:
        partner_id = partners.get(row["partner_external_id"])
        if partner_id is None:
            parsed.reject(
                line,
                "partner_external_id",
                row["partner_external_id"],
                "No partner has this external_id: create the partner first.",
            )
            continue
        row["partner_id"] = partner_id
        valid_rows.append((line, row))
    parsed.rows = valid_rows


def write_reach(tenant, parsed: ParsedFile, run) -> tuple[int, int]:
    from partners.tasks import refresh_partner_scores_task

    rows = [row for _, row in parsed.rows]
    existing = set(
        ReachEntry.objects.filter(partner_id__in={row["partner_id"] for row in rows}).values_list(
            "partner_id", "domain"
        )
    )
    ReachEntry.objects.bulk_create(
        [
            ReachEntry(
                tenant=tenant,
                partner_id=row["partner_id"],
                domain=row["domain"],
                company_name=row.get("company_name") or "",
                source=f"import:{run.pk}",
            )
            for row in rows
        ],
        batch_size=5000,
        update_conflicts=True,
        unique_fields=["tenant", "partner", "domain"],
        update_fields=["company_name", "updated_at"],
    )
    enqueue_on_commit(refresh_partner_scores_task, tenant.pk)
    updated = sum((row["partner_id"], row["domain"]) in existing for row in rows)
    return len(rows) - updated, updated
