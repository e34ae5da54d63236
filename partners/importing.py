"""CSV import of partners' reach lists: one company a line, matched to accounts by domain.

Lines are merged into each partner's list by domain, so importing a file twice
adds nothing. Lines at consumer mail providers are rejected. Errors of repeated
and personal-domain lines carry a `reason`, so `reach_import_counts` can split the
rejected lines. Optional firmographic columns take the formats of the accounts
import; a column in the file overwrites the stored values, empty cells included,
and a column left out keeps them. The shared CSV machinery lives in `crm.importing`.
"""

from __future__ import annotations

from functools import partial

from crm import parsing
from crm.freemail import is_personal_domain
from crm.importing import Column, ParsedFile, reject_duplicates
from partners.models import Partner, ReachEntry
from partners.reach import (
    MAX_EMPLOYEES,
    MAX_TEXT_LENGTH,
    PERSONAL_FIX,
    REASON_DUPLICATE,
    REASON_PERSONAL,
    personal_domain_message,
)
from partners.reach_scoring import FIRMOGRAPHIC_FIELDS
from partners.recompute import partner_scores_enqueue

REACH_COLUMNS = (
    Column("partner_external_id", partial(parsing.parse_text, max_length=100), required=True),
    Column("domain", parsing.parse_domain, required=True, aliases=("website",)),
    Column("company_name", partial(parsing.parse_text, max_length=255), aliases=("name",)),
    Column(
        "industry", partial(parsing.parse_text, max_length=MAX_TEXT_LENGTH), aliases=("sector",)
    ),
    Column("employees", partial(parsing.parse_int, maximum=MAX_EMPLOYEES)),
    Column("annual_revenue", parsing.parse_decimal, aliases=("revenue",)),
    Column("country", parsing.parse_country),
    Column("region", partial(parsing.parse_text, max_length=MAX_TEXT_LENGTH), aliases=("state",)),
    Column("tech_stack", parsing.parse_list),
)


def _reject_personal(parsed: ParsedFile) -> None:
    valid_rows = []
    for line, row in parsed.rows:
        if is_personal_domain(row["domain"]):
            parsed.reject(
                line,
                "domain",
                row["domain"],
                f"{personal_domain_message(row['domain'])} {PERSONAL_FIX}",
            )
            parsed.errors[-1]["reason"] = REASON_PERSONAL
            continue
        valid_rows.append((line, row))
    parsed.rows = valid_rows


def check_reach(tenant, parsed: ParsedFile) -> None:
    _reject_personal(parsed)
    for _, row in parsed.rows:
        row["pair"] = f"{row['partner_external_id']} {row['domain']}"
    before = len(parsed.errors)
    reject_duplicates(parsed, "pair", column="domain", label="partner and domain")
    for error in parsed.errors[before:]:
        error["reason"] = REASON_DUPLICATE
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
    rows = [row for _, row in parsed.rows]
    partner_ids = sorted({row["partner_id"] for row in rows})
    existing = set(
        ReachEntry.objects.filter(partner_id__in=partner_ids).values_list("partner_id", "domain")
    )
    firmographics = [name for name in FIRMOGRAPHIC_FIELDS if name in parsed.columns]
    ReachEntry.objects.bulk_create(
        [
            ReachEntry(
                tenant=tenant,
                partner_id=row["partner_id"],
                domain=row["domain"],
                company_name=row.get("company_name") or "",
                source=f"import:{run.pk}",
                **{name: row[name] for name in firmographics},
            )
            for row in rows
        ],
        batch_size=5000,
        update_conflicts=True,
        unique_fields=["tenant", "partner", "domain"],
        update_fields=["company_name", *firmographics, "updated_at"],
    )
    partner_scores_enqueue(tenant_id=tenant.pk, partner_ids=partner_ids)
    updated = sum((row["partner_id"], row["domain"]) in existing for row in rows)
    return len(rows) - updated, updated


def reach_import_counts(run) -> dict[str, int]:
    """Split a reach import run's lines into accepted, duplicate and rejected counts.

    NOTE: only the first errors of a run are stored (`MAX_STORED_ERRORS`), so past
    that many rejected lines the unstored duplicates and personal domains are
    counted as invalid.
    """
    reasons = [error.get("reason") for error in run.errors if error.get("line", 0) > 1]
    personal = reasons.count(REASON_PERSONAL)
    duplicates = reasons.count(REASON_DUPLICATE)
    return {
        "total": run.rows_total,
        "accepted": run.rows_created + run.rows_updated,
        "duplicates": duplicates,
        "rejected_personal": personal,
        "rejected_invalid": max(run.rows_rejected - personal - duplicates, 0),
    }
