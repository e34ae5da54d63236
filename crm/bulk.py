"""Bulk upserts of accounts and deals sent as JSON rows over the API.

The rows go through the checks and set-based writers of the CSV import
(`crm.importing.accounts` and `crm.importing.deals`), so 10,000 rows cost a few
statements, not 10,000 upserts. Each row gets a result in input order: created,
updated, unchanged or error. In atomic mode one invalid row means nothing is
written; in partial mode the valid rows are written and the invalid ones reported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from crm.importing.accounts import ACCOUNT_COLUMNS, ACCOUNT_FIELDS, accounts_write, check_accounts
from crm.importing.csvfile import ParsedFile
from crm.importing.deals import DEAL_COLUMNS, DEAL_FIELDS, check_deals, write_deals
from crm.importing.runner import ANALYZE_AFTER_ROWS, tables_analyze
from crm.models import Account, Deal
from crm.rules import BOOKED_DEAL_FIX, BOOKED_DEAL_MESSAGE
from tenancy.errors import Conflict
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

# Rows per request. A request keeps all its rows and results in memory, and its
# transaction locks the stored deals it checks. bench/results-bulk.md has the time
# of 10,000 rows. Larger batches belong in a CSV import.
MAX_BULK_ROWS = 10_000
# A rejected atomic request reports the errors of at most this many rows, so the
# response stays small when every row has the same mistake.
MAX_REPORTED_ERROR_ROWS = 1_000

ATOMIC = "atomic"
PARTIAL = "partial"
MODES = (ATOMIC, PARTIAL)

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
ERROR = "error"
STATUSES = (CREATED, UPDATED, UNCHANGED, ERROR)

# Account.source of the accounts that the bulk API creates.
ACCOUNT_SOURCE = "api:bulk"


@dataclass
class RowResult:
    index: int
    status: str
    external_id: str
    id: int | None = None
    errors: list[dict] = field(default_factory=list)


@dataclass
class BulkResult:
    mode: str
    # False when an atomic request had invalid rows and wrote nothing; `results`
    # then lists only the invalid rows.
    written: bool
    results: list[RowResult]

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for result in self.results:
            counts[result.status] += 1
        return counts


@dataclass(frozen=True)
class _Kind:
    """The parts that differ between the bulk upserts of accounts and of deals."""

    model: type
    columns: frozenset[str]
    # Keys that must be unique within one request, besides external_id.
    unique_keys: tuple[str, ...]
    check: Callable[[object, ParsedFile], None]
    write: Callable[[object, ParsedFile], tuple[int, int]]
    # Stored fields compared with the checked row to tell updated from unchanged.
    compared_fields: tuple[str, ...]
    tables: tuple[str, ...]


ACCOUNTS = _Kind(
    model=Account,
    columns=frozenset(column.name for column in ACCOUNT_COLUMNS),
    unique_keys=("domain",),
    check=check_accounts,
    write=lambda tenant, parsed: accounts_write(tenant, parsed, source=ACCOUNT_SOURCE),
    compared_fields=ACCOUNT_FIELDS,
    tables=("crm_account",),
)
DEALS = _Kind(
    model=Deal,
    columns=frozenset(column.name for column in DEAL_COLUMNS),
    unique_keys=(),
    check=check_deals,
    write=lambda tenant, parsed: write_deals(tenant, parsed, None),
    # check_deals resolves the references into these ids and fills in the currency.
    compared_fields=(*DEAL_FIELDS, "account_id", "partner_id", "partner_named"),
    tables=("crm_deal",),
)


def accounts_bulk_upsert(
    *, tenant, rows: list[dict], row_errors: dict[int, list[dict]], mode: str
) -> BulkResult:
    """Check and upsert accounts by external id; see `_bulk_upsert`."""
    return _bulk_upsert(ACCOUNTS, tenant=tenant, rows=rows, row_errors=row_errors, mode=mode)


def deals_bulk_upsert(
    *, tenant, rows: list[dict], row_errors: dict[int, list[dict]], mode: str
) -> BulkResult:
    """Check and upsert deals by external id; see `_bulk_upsert`.

    Newly won deals are marked pending and one pipeline task is enqueued after
    commit, as the CSV import does.
    """
    return _bulk_upsert(DEALS, tenant=tenant, rows=rows, row_errors=row_errors, mode=mode)


def _bulk_upsert(
    kind: _Kind, *, tenant, rows: list[dict], row_errors: dict[int, list[dict]], mode: str
) -> BulkResult:
    """Check the rows against each other and the stored rows, then write the valid ones.

    `rows[i]` is row i after field validation. When `row_errors[i]` lists why it is
    invalid (each error a dict of field, value, message and fix), `rows[i]` holds
    only its external_id as sent, or "" when that was missing or not text. Such a
    row still counts for the duplicate check.
    Raises Conflict when a concurrent request inserted a conflicting row first, and
    then nothing is written.
    """
    logger.info(
        "bulk_upsert.started tenant_id=%s model=%s mode=%s rows=%s",
        tenant.pk,
        kind.model.__name__,
        mode,
        len(rows),
    )
    errors = {index: list(found) for index, found in row_errors.items() if found}

    with tenant_scope(tenant), transaction.atomic():
        _reject_duplicates(rows, errors, ("external_id", *kind.unique_keys))
        parsed = ParsedFile(
            rows=[(index, dict(row)) for index, row in enumerate(rows) if index not in errors],
            columns=set(kind.columns),
        )
        kind.check(tenant, parsed)
        for error in parsed.errors:
            errors.setdefault(error["line"], []).append(_error_from_check(error))

        if errors and mode == ATOMIC:
            result = BulkResult(mode=mode, written=False, results=_error_results(rows, errors))
            logger.info(
                "bulk_upsert.rejected tenant_id=%s model=%s invalid_rows=%s",
                tenant.pk,
                kind.model.__name__,
                len(errors),
            )
            return result

        statuses = _statuses(kind, parsed)
        changed = [(index, row) for index, row in parsed.rows if statuses[index] != UNCHANGED]
        if changed:
            try:
                with transaction.atomic():
                    kind.write(tenant, ParsedFile(rows=changed, columns=set(kind.columns)))
            except IntegrityError as error:
                logger.warning(
                    "bulk_upsert.write_conflict tenant_id=%s model=%s error=%s",
                    tenant.pk,
                    kind.model.__name__,
                    error,
                )
                raise Conflict(
                    "Another request wrote some of these rows at the same time, "
                    "so nothing was written.",
                    field="rows",
                    value=None,
                    fix="Send the request again.",
                ) from None
            if len(changed) >= ANALYZE_AFTER_ROWS:
                tables_analyze(kind.tables)

        ids = dict(
            kind.model.objects.filter(
                external_id__in=[row["external_id"] for _, row in parsed.rows]
            ).values_list("external_id", "id")
        )

    results = []
    for index, row in enumerate(rows):
        if index in errors:
            results.append(_error_result(index, rows, errors))
            continue
        external_id = row["external_id"]
        results.append(RowResult(index, statuses[index], external_id, ids.get(external_id)))
    result = BulkResult(mode=mode, written=True, results=results)
    logger.info(
        "bulk_upsert.finished tenant_id=%s model=%s created=%s updated=%s unchanged=%s rejected=%s",
        tenant.pk,
        kind.model.__name__,
        *(result.counts[status] for status in STATUSES),
    )
    return result


def _reject_duplicates(rows: list[dict], errors: dict, keys: tuple[str, ...]) -> None:
    """Reject each row whose value of a key already appeared in an earlier row."""
    for key in keys:
        first_index: dict[str, int] = {}
        for index, row in enumerate(rows):
            if not row.get(key):
                continue
            value = row[key]
            if value not in first_index:
                first_index[value] = index
                continue
            errors.setdefault(index, []).append(
                {
                    "field": key,
                    "value": value,
                    "message": f"Duplicate of row {first_index[value]}: each {key} may "
                    "appear once per request.",
                    "fix": f"Merge the rows with this {key} into one, or send them in "
                    "separate requests.",
                }
            )


def _error_from_check(error: dict) -> dict:
    """Turn an import check's error into a row error with its fix apart.

    The import checks write "what is wrong: what to do" in one message; the API
    reports the two parts in `message` and `fix`.
    """
    message = error["message"]
    fix = ""
    if message == BOOKED_DEAL_MESSAGE:
        message = message.removesuffix(BOOKED_DEAL_FIX).strip()
        fix = BOOKED_DEAL_FIX
    else:
        problem, separator, remedy = message.partition(": ")
        if separator and remedy:
            message = f"{problem}."
            fix = remedy[0].upper() + remedy[1:]
    return {
        "field": error["column"],
        "value": error["value"] or None,
        "message": message,
        "fix": fix,
    }


def _statuses(kind: _Kind, parsed: ParsedFile) -> dict[int, str]:
    """Return created, updated or unchanged per checked row, by comparing stored values."""
    stored = {
        values["external_id"]: values
        for values in kind.model.objects.filter(
            external_id__in=[row["external_id"] for _, row in parsed.rows]
        ).values("external_id", *kind.compared_fields)
    }
    statuses = {}
    for index, row in parsed.rows:
        existing = stored.get(row["external_id"])
        if existing is None:
            statuses[index] = CREATED
        elif any(existing[name] != row.get(name) for name in kind.compared_fields):
            statuses[index] = UPDATED
        else:
            statuses[index] = UNCHANGED
    return statuses


def _error_result(index: int, rows: list[dict], errors: dict) -> RowResult:
    return RowResult(index, ERROR, rows[index].get("external_id", ""), None, errors[index])


def _error_results(rows: list[dict], errors: dict) -> list[RowResult]:
    return [_error_result(index, rows, errors) for index in sorted(errors)]
