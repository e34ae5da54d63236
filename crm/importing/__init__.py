"""CSV import of accounts, deals, reach, revenue events and exchange rates: idempotent upserts.

Each line is checked before anything is written. A strict import writes nothing
when any line is invalid; a lenient one writes the valid lines and reports the
rest. Rows are matched on the tenant's external ids (exchange rates on currency
and date), so importing a file twice changes nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from crm.importing.accounts import ACCOUNT_COLUMNS, check_accounts, write_accounts
from crm.importing.csvfile import Column, ParsedFile, parse_csv, reject_duplicates
from crm.importing.deals import DEAL_COLUMNS, check_deals, write_deals
from crm.models import ImportRun
from tenancy.errors import DomainError
from tenancy.scope import tenant_scope
from tenancy.services import actor_user

__all__ = ["Column", "ParsedFile", "csv_import", "parse_csv", "reject_duplicates"]

logger = logging.getLogger(__name__)

MAX_STORED_ERRORS = 500


# After this many rows, the planner's statistics are refreshed before the pipeline
# queries the new rows: with stale statistics, the pipeline step of bench/pipeline.py
# ran about seven times slower.
ANALYZE_AFTER_ROWS = 5000


@dataclass(frozen=True)
class Importer:
    """The columns, checks and writer of one kind of import."""

    columns: tuple[Column, ...]
    check: Callable[[Any, ParsedFile], None]
    # Writes the checked rows and returns (created, updated).
    write: Callable[[Any, ParsedFile, ImportRun], tuple[int, int]]
    # Tables the write fills, refreshed with ANALYZE after a large import.
    tables: tuple[str, ...]


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
            ACCOUNT_COLUMNS, check_accounts, write_accounts, ("crm_account",)
        ),
        ImportRun.Kind.DEALS: Importer(DEAL_COLUMNS, check_deals, write_deals, ("crm_deal",)),
        ImportRun.Kind.REACH: Importer(
            REACH_COLUMNS, check_reach, write_reach, ("partners_reachentry",)
        ),
        ImportRun.Kind.REVENUE_EVENTS: Importer(
            REVENUE_EVENT_COLUMNS,
            check_revenue_events,
            write_revenue_events,
            ("commissions_revenueevent",),
        ),
        ImportRun.Kind.EXCHANGE_RATES: Importer(
            EXCHANGE_RATE_COLUMNS,
            check_exchange_rates,
            write_exchange_rates,
            ("commissions_exchangerate",),
        ),
    }


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


def _analyze(tables: tuple[str, ...]) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")  # noqa: S608 - fixed table names


def csv_import(
    *, tenant, kind: str, content: bytes, filename: str, strict: bool = True, actor=None
) -> ImportRun:
    """Import a CSV file of `kind` for `tenant` and return the recorded run.

    The checks and the writes share one transaction, and the deals check locks the
    stored deals it compares, so the pipeline cannot book one in between. When a
    concurrent import inserts the same new key first, this run is recorded as failed
    with an error that explains why.
    """
    importers = _importers()
    if kind not in importers:
        raise DomainError(
            f"Unknown import kind {kind!r}.",
            field="kind",
            value=kind,
            fix=f"Use one of {', '.join(importers)}.",
        )
    importer = importers[kind]
    logger.info(
        "import.started tenant_id=%s kind=%s filename=%s strict=%s",
        tenant.pk,
        kind,
        filename,
        strict,
    )

    with tenant_scope(tenant), transaction.atomic():
        parsed = parse_csv(content, importer.columns)
        header_broken = parsed.fatal
        if not header_broken:
            importer.check(tenant, parsed)

        run = ImportRun(
            tenant=tenant,
            kind=kind,
            filename=filename[:255],
            strict=strict,
            rows_total=parsed.total,
            rows_rejected=len(parsed.rejected_lines),
            errors=sorted(parsed.errors, key=lambda error: error["line"])[:MAX_STORED_ERRORS],
            created_by=actor_user(actor),
        )
        nothing_valid = parsed.errors and not parsed.rows
        if header_broken or nothing_valid or (strict and parsed.errors):
            run.status = ImportRun.Status.FAILED
            run.save()
            logger.info(
                "import.failed tenant_id=%s import_id=%s errors=%s",
                tenant.pk,
                run.pk,
                len(parsed.errors),
            )
            return run

        run.status = ImportRun.Status.PARTIAL if parsed.errors else ImportRun.Status.SUCCEEDED
        run.save()
        try:
            with transaction.atomic():
                run.rows_created, run.rows_updated = importer.write(tenant, parsed, run)
        except IntegrityError:
            logger.exception("import.write_conflict tenant_id=%s import_id=%s", tenant.pk, run.pk)
            run.status = ImportRun.Status.FAILED
            run.errors = [
                {
                    "line": 0,
                    "column": "",
                    "value": "",
                    "message": "Another import or request wrote the same rows at the same "
                    "time, so nothing was written: import the file again.",
                }
            ]
            run.save(update_fields=["status", "errors", "updated_at"])
            return run
        run.save(update_fields=["rows_created", "rows_updated", "updated_at"])
        if len(parsed.rows) >= ANALYZE_AFTER_ROWS:
            _analyze(importer.tables)

    logger.info(
        "import.finished tenant_id=%s import_id=%s created=%s updated=%s rejected=%s",
        tenant.pk,
        run.pk,
        run.rows_created,
        run.rows_updated,
        run.rows_rejected,
    )
    return run
