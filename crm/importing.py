"""CSV import of accounts and deals: per-line errors, idempotent upserts.

Each line is checked before anything is written. A strict import writes nothing
when any line is invalid; a lenient one writes the valid lines and reports the
rest. Rows are matched on the tenant's external ids, so importing a file twice
changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from crm import parsing
from crm.models import Account, Deal, ImportRun
from crm.pipeline import deals_attribute
from partners.models import Partner
from tenancy.errors import DomainError
from tenancy.queue import enqueue_on_commit
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

MAX_STORED_ERRORS = 500
WRITE_BATCH_SIZE = 2000
# After this many rows, the planner's statistics are refreshed before the pipeline
# queries the new rows: with stale statistics, the pipeline step of bench/pipeline.py
# ran about seven times slower.
ANALYZE_AFTER_ROWS = 5000


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str], Any]
    required: bool = False
    aliases: tuple[str, ...] = ()


ACCOUNT_COLUMNS = (
    Column(
        "external_id", partial(parsing.parse_text, max_length=100), required=True, aliases=("id",)
    ),
    Column(
        "name", partial(parsing.parse_text, max_length=255), required=True, aliases=("account",)
    ),
    Column("domain", parsing.parse_domain, aliases=("website",)),
    Column("industry", partial(parsing.parse_text, max_length=100), aliases=("sector",)),
    Column("employees", partial(parsing.parse_int, maximum=10_000_000)),
    Column("annual_revenue", parsing.parse_decimal, aliases=("revenue",)),
    Column("country", parsing.parse_country, aliases=("office_location",)),
    Column("region", partial(parsing.parse_text, max_length=100), aliases=("state",)),
    Column("year_established", partial(parsing.parse_int, minimum=1600, maximum=2100)),
    Column("parent_name", partial(parsing.parse_text, max_length=255), aliases=("subsidiary_of",)),
    Column("tech_stack", parsing.parse_list),
)

DEAL_COLUMNS = (
    Column(
        "external_id",
        partial(parsing.parse_text, max_length=100),
        required=True,
        aliases=("opportunity_id",),
    ),
    Column("stage", parsing.parse_stage, required=True, aliases=("deal_stage",)),
    Column("account_external_id", partial(parsing.parse_text, max_length=100)),
    Column("account_domain", parsing.parse_domain),
    Column("amount", parsing.parse_decimal, aliases=("close_value",)),
    Column("currency", parsing.parse_currency),
    Column("close_date", parsing.parse_date),
    Column("engage_date", parsing.parse_date),
    Column("name", partial(parsing.parse_text, max_length=255)),
    Column("product", partial(parsing.parse_text, max_length=100)),
    Column("owner", partial(parsing.parse_text, max_length=100), aliases=("sales_agent",)),
    Column("partner_external_id", partial(parsing.parse_text, max_length=100)),
)


@dataclass
class ParsedFile:
    rows: list[tuple[int, dict]] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    total: int = 0
    columns: set[str] = field(default_factory=set)

    def reject(self, line: int, column: str, value: str, message: str) -> None:
        self.errors.append({"line": line, "column": column, "value": value, "message": message})

    @property
    def rejected_lines(self) -> set[int]:
        return {error["line"] for error in self.errors}


def _resolve_header(header: list[str], columns: tuple[Column, ...]) -> tuple[dict, list[dict]]:
    """Map the file's header cells to column names; report missing required ones."""
    names = {}
    for column in columns:
        names[column.name] = column.name
        for alias in column.aliases:
            names[alias] = column.name
    mapping: dict[str, str] = {}
    errors: list[dict] = []
    for cell in header:
        key = cell.strip().lower().replace(" ", "_")
        if key in names and names[key] not in mapping.values():
            mapping[cell] = names[key]
    for column in columns:
        if column.required and column.name not in mapping.values():
            errors.append(
                {
                    "line": 1,
                    "column": column.name,
                    "value": "",
                    "message": f"Required column '{column.name}' is missing from the header.",
                }
            )
    return mapping, errors


def parse_csv(content: bytes, columns: tuple[Column, ...]) -> ParsedFile:
    """Parse and check every line; never touches the database."""
    parsed = ParsedFile()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        parsed.reject(
            0, "", "", f"The file is not UTF-8 text (byte {error.start}): save it as UTF-8 CSV."
        )
        return parsed

    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        parsed.reject(1, "", "", "The file is empty: the first line must be the column header.")
        return parsed
    mapping, header_errors = _resolve_header(header, columns)
    if header_errors:
        parsed.errors.extend(header_errors)
        return parsed
    parsed.columns = set(mapping.values())
    by_name = {column.name: column for column in columns}
    positions = [(index, mapping[cell]) for index, cell in enumerate(header) if cell in mapping]

    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        parsed.total += 1
        if len(cells) > len(header):
            parsed.reject(
                line,
                "",
                ",".join(cells[len(header) :])[:100],
                f"The line has {len(cells)} cells but the header has {len(header)}.",
            )
            continue
        row: dict = {}
        ok = True
        for index, name in positions:
            raw = cells[index] if index < len(cells) else ""
            column = by_name[name]
            if column.required and not raw.strip():
                parsed.reject(line, name, raw, f"'{name}' is required.")
                ok = False
                continue
            try:
                row[name] = column.parse(raw)
            except ValueError as error:
                parsed.reject(line, name, raw[:200], f"Expected {error}.")
                ok = False
        if ok:
            parsed.rows.append((line, row))
    return parsed


def reject_duplicates(parsed: ParsedFile, key: str, *, column: str = "", label: str = "") -> None:
    """Reject lines whose `key` value appeared on an earlier line of the file."""
    column = column or key
    label = label or key
    seen: dict[str, int] = {}
    kept = []
    for line, row in parsed.rows:
        value = row.get(key)
        if value and value in seen:
            parsed.reject(
                line,
                column,
                row.get(column, value),
                f"Duplicate of line {seen[value]}: each {label} may appear once.",
            )
            continue
        if value:
            seen[value] = line
        kept.append((line, row))
    parsed.rows = kept


def _check_accounts(parsed: ParsedFile) -> None:
    reject_duplicates(parsed, "external_id")
    reject_duplicates(parsed, "domain")
    domains = {row["domain"]: row["external_id"] for _, row in parsed.rows if row.get("domain")}
    taken = dict(Account.objects.filter(domain__in=domains).values_list("domain", "external_id"))
    kept = []
    for line, row in parsed.rows:
        owner = taken.get(row.get("domain", ""))
        if owner is not None and owner != row["external_id"]:
            parsed.reject(
                line,
                "domain",
                row["domain"],
                f"Domain already belongs to account {owner!r}: fix the domain or the external_id.",
            )
            continue
        kept.append((line, row))
    parsed.rows = kept


def _check_deals(parsed: ParsedFile) -> None:
    reject_duplicates(parsed, "external_id")
    account_ids = {
        row["account_external_id"] for _, row in parsed.rows if row.get("account_external_id")
    }
    account_domains = {row["account_domain"] for _, row in parsed.rows if row.get("account_domain")}
    partner_ids = {
        row["partner_external_id"] for _, row in parsed.rows if row.get("partner_external_id")
    }
    by_external_id = dict(
        Account.objects.filter(external_id__in=account_ids).values_list("external_id", "id")
    )
    by_domain = dict(Account.objects.filter(domain__in=account_domains).values_list("domain", "id"))
    partners = dict(
        Partner.objects.filter(external_id__in=partner_ids).values_list("external_id", "id")
    )

    kept = []
    for line, row in parsed.rows:
        account_id = None
        if row.get("account_external_id"):
            account_id = by_external_id.get(row["account_external_id"])
            if account_id is None:
                parsed.reject(
                    line,
                    "account_external_id",
                    row["account_external_id"],
                    "No account has this external_id: import the account first.",
                )
                continue
        elif row.get("account_domain"):
            account_id = by_domain.get(row["account_domain"])
            if account_id is None:
                parsed.reject(
                    line,
                    "account_domain",
                    row["account_domain"],
                    "No account has this domain: import the account first.",
                )
                continue
        if row["stage"] == Deal.Stage.WON and account_id is None:
            parsed.reject(
                line,
                "account_external_id",
                "",
                "A won deal needs its account: fill account_external_id or account_domain.",
            )
            continue
        if row["stage"] == Deal.Stage.WON and row.get("close_date") is None:
            parsed.reject(line, "close_date", "", "A won deal needs its close_date as YYYY-MM-DD.")
            continue
        partner_id = None
        if row.get("partner_external_id"):
            partner_id = partners.get(row["partner_external_id"])
            if partner_id is None:
                parsed.reject(
                    line,
                    "partner_external_id",
                    row["partner_external_id"],
                    "No partner has this external_id: create the partner first or leave it empty.",
                )
                continue
        row["account_id"] = account_id
        row["partner_id"] = partner_id
        kept.append((line, row))
    parsed.rows = kept


ACCOUNT_FIELDS = (
    "name",
    "domain",
    "industry",
    "employees",
    "annual_revenue",
    "country",
    "region",
    "year_established",
    "parent_name",
    "tech_stack",
)
DEAL_FIELDS = (
    "stage",
    "amount",
    "currency",
    "close_date",
    "engage_date",
    "name",
    "product",
    "owner",
)


def _write_accounts(tenant, parsed: ParsedFile, run: ImportRun) -> tuple[int, int]:
    source = f"import:{run.pk}"
    rows = [row for _, row in parsed.rows]
    existing = set(
        Account.objects.filter(external_id__in=[row["external_id"] for row in rows]).values_list(
            "external_id", flat=True
        )
    )
    fields = [name for name in ACCOUNT_FIELDS if name in parsed.columns]
    objects = []
    for row in rows:
        values = {name: row[name] for name in fields}
        values = {
            name: (
                ""
                if value is None
                and name in ("domain", "industry", "country", "region", "parent_name")
                else value
            )
            for name, value in values.items()
        }
        objects.append(
            Account(tenant=tenant, external_id=row["external_id"], source=source, **values)
        )
    Account.objects.bulk_create(
        objects,
        batch_size=WRITE_BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["tenant", "external_id"],
        update_fields=[*fields, "updated_at"],
    )
    _enqueue_account_follow_ups(tenant.pk)
    return len(rows) - len(existing), len(existing)


def _write_deals(tenant, parsed: ParsedFile, run: ImportRun) -> tuple[int, int]:
    rows = [row for _, row in parsed.rows]
    existing = set(
        Deal.objects.filter(external_id__in=[row["external_id"] for row in rows]).values_list(
            "external_id", flat=True
        )
    )
    fields = [name for name in DEAL_FIELDS if name in parsed.columns]
    objects = []
    for row in rows:
        values = {name: row[name] for name in fields}
        if values.get("amount") is None:
            values.pop("amount", None)
        values["currency"] = values.get("currency") or tenant.base_currency
        for text_field in ("name", "product", "owner"):
            if text_field in values and values[text_field] is None:
                values[text_field] = ""
        objects.append(
            Deal(
                tenant=tenant,
                external_id=row["external_id"],
                account_id=row["account_id"],
                partner_id=row["partner_id"],
                **values,
            )
        )
    update_fields = [*{*fields, "currency"}, "account", "partner", "updated_at"]
    if "amount" not in fields:
        update_fields = [name for name in update_fields if name != "amount"]
    Deal.objects.bulk_create(
        objects,
        batch_size=WRITE_BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["tenant", "external_id"],
        update_fields=update_fields,
    )
    # Newly won deals enter the pipeline; processed ones keep their status so a
    # re-import never pays a commission twice.
    saved_ids = list(
        Deal.objects.filter(external_id__in=[row["external_id"] for row in rows]).values_list(
            "pk", flat=True
        )
    )
    deals_attribute(tenant=tenant, deal_ids=saved_ids)
    Deal.objects.filter(
        pk__in=saved_ids,
        stage=Deal.Stage.WON,
        pipeline_status=Deal.PipelineStatus.NOT_APPLICABLE,
    ).update(pipeline_status=Deal.PipelineStatus.PENDING, updated_at=timezone.now())
    _enqueue_deal_follow_ups(tenant.pk)
    return len(rows) - len(existing), len(existing)


@dataclass(frozen=True)
class Importer:
    """What one kind of import reads, checks against stored rows, and writes."""

    columns: tuple[Column, ...]
    check: Callable[[ParsedFile], None]
    # Writes the checked rows and returns (created, updated).
    write: Callable[[Any, ParsedFile, ImportRun], tuple[int, int]]
    # Tables the write fills, refreshed with ANALYZE after a large import.
    tables: tuple[str, ...]


def _importers() -> dict[str, Importer]:
    from partners.importing import REACH_COLUMNS, check_reach, write_reach

    return {
        ImportRun.Kind.ACCOUNTS: Importer(
            ACCOUNT_COLUMNS, _check_accounts, _write_accounts, ("crm_account",)
        ),
        ImportRun.Kind.DEALS: Importer(DEAL_COLUMNS, _check_deals, _write_deals, ("crm_deal",)),
        ImportRun.Kind.REACH: Importer(
            REACH_COLUMNS, check_reach, write_reach, ("partners_reachentry",)
        ),
    }


def _analyze(tables: tuple[str, ...]) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")  # noqa: S608 - fixed table names


def csv_import(
    *, tenant, kind: str, content: bytes, filename: str, strict: bool = True, actor=None
) -> ImportRun:
    """Import a CSV file of `kind` for `tenant` and return the recorded run.

    The checks and the writes share one transaction, so a concurrent import cannot
    slip a conflicting row in between them.
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
        header_broken = any(error["line"] <= 1 for error in parsed.errors)
        if not header_broken:
            importer.check(parsed)

        run = ImportRun(
            tenant=tenant,
            kind=kind,
            filename=filename[:255],
            strict=strict,
            rows_total=parsed.total,
            rows_rejected=len(parsed.rejected_lines),
            errors=sorted(parsed.errors, key=lambda error: error["line"])[:MAX_STORED_ERRORS],
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        if header_broken or (strict and parsed.errors):
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
        run.rows_created, run.rows_updated = importer.write(tenant, parsed, run)
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


def _enqueue_account_follow_ups(tenant_id: int) -> None:
    from crm.tasks import refresh_after_account_import_task

    enqueue_on_commit(refresh_after_account_import_task, tenant_id)


def _enqueue_deal_follow_ups(tenant_id: int) -> None:
    from crm.tasks import process_pending_deals_task

    enqueue_on_commit(process_pending_deals_task, tenant_id)
