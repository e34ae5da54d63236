"""CSV import of accounts, deals, reach, revenue events and exchange rates: idempotent upserts.

Each line is checked before anything is written. A strict import writes nothing
when any line is invalid; a lenient one writes the valid lines and reports the
rest. Rows are matched on the tenant's external ids (exchange rates on currency
and date), so importing a file twice changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from crm.importing.accounts import ACCOUNT_COLUMNS, check_accounts, write_accounts
from crm.importing.changes import ChangeCounts, classify_accounts, classify_deals
from crm.importing.csvfile import Column, FileFormat, ParsedFile, parse_csv, reject_duplicates
from crm.importing.deals import DEAL_COLUMNS, check_deals, write_deals
from crm.importing.runner import ANALYZE_AFTER_ROWS, MAX_STORED_ERRORS, import_execute
from crm.models import ImportRun
from tenancy.errors import DomainError
from tenancy.services import actor_user

__all__ = [
    "ANALYZE_AFTER_ROWS",
    "MAX_STORED_ERRORS",
    "Column",
    "FileFormat",
    "ParsedFile",
    "csv_import",
    "importer_get",
    "parse_csv",
    "reject_duplicates",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Importer:
    """The columns, checks and writer of one kind of import."""

    columns: tuple[Column, ...]
    check: Callable[[Any, ParsedFile], None]
    # Writes the checked rows and returns (created, updated).
    write: Callable[[Any, ParsedFile, ImportRun], tuple[int, int]]
    # Tables the write fills, refreshed with ANALYZE after a large import.
    tables: tuple[str, ...]
    # The values of a checked row that may appear once per file.
    keys: Callable[[dict], tuple]
    # Counts checked rows that would be created, updated or left unchanged; None
    # for kinds whose writer does not compare with the stored rows.
    classify: Callable[[Any, ParsedFile], ChangeCounts] | None = None


def _importers() -> dict[str, Importer]:
    from commissions.importing import (
        EXCHANGE_RATE_COLUMNS,
        REVENUE_EVENT_COLUMNS,
        check_exchange_rates,
        check_revenue_events,
        write_exchange_rates,
        write_revenue_events,
    )
    from partners.importing import REACH_COLUMNS, check_reach, write_reach

    return {
        ImportRun.Kind.ACCOUNTS: Importer(
            ACCOUNT_COLUMNS,
            check_accounts,
            write_accounts,
            ("crm_account",),
            keys=lambda row: (row["external_id"], row.get("domain")),
            classify=classify_accounts,
        ),
        ImportRun.Kind.DEALS: Importer(
            DEAL_COLUMNS,
            check_deals,
            write_deals,
            ("crm_deal",),
            keys=lambda row: (row["external_id"],),
            classify=classify_deals,
        ),
        ImportRun.Kind.REACH: Importer(
            REACH_COLUMNS,
            check_reach,
            write_reach,
            ("partners_reachentry",),
            keys=lambda row: (row["pair"],),
        ),
        ImportRun.Kind.REVENUE_EVENTS: Importer(
            REVENUE_EVENT_COLUMNS,
            check_revenue_events,
            write_revenue_events,
            ("commissions_revenueevent",),
            keys=lambda row: (row["external_id"],),
        ),
        ImportRun.Kind.EXCHANGE_RATES: Importer(
            EXCHANGE_RATE_COLUMNS,
            check_exchange_rates,
            write_exchange_rates,
            ("commissions_exchangerate",),
            keys=lambda row: ((row["checked"].currency, row["checked"].rate_date),),
        ),
    }


def importer_get(kind: str) -> Importer:
    """Return the importer of `kind`, or raise DomainError naming the known kinds."""
    importers = _importers()
    if kind not in importers:
        raise DomainError(
            f"Unknown import kind {kind!r}.",
            field="kind",
            value=kind,
            fix=f"Use one of {', '.join(importers)}.",
        )
    return importers[kind]


def upload_size_check(upload) -> None:
    """Raise DomainError naming the file when it is larger than imports accept."""
    limit = settings.TRACK360_MAX_IMPORT_BYTES
    if upload.size > limit:
        raise DomainError(
            f"The file has {upload.size} bytes, more than the limit of {limit} bytes.",
            field="file",
            value=upload.name,
            fix="Split the file into smaller files and import each one.",
        )


def csv_import(
    *,
    tenant,
    kind: str,
    content: bytes,
    filename: str,
    strict: bool = True,
    actor=None,
    dry_run: bool = False,
    file_format: FileFormat | None = None,
) -> ImportRun:
    """Import an in-memory CSV file of `kind` for `tenant` and return the recorded run.

    For stored uploads and the worker, see crm.importing.uploads.
    """
    importer = importer_get(kind)
    run = ImportRun.all_tenants.create(
        tenant=tenant,
        kind=kind,
        filename=filename[:255],
        strict=strict,
        dry_run=dry_run,
        sha256=hashlib.sha256(content).hexdigest(),
        status=ImportRun.Status.RUNNING,
        created_by=actor_user(actor),
    )
    return import_execute(
        run,
        importer,
        lambda: nullcontext(io.BytesIO(content)),
        file_format or FileFormat(),
    )
