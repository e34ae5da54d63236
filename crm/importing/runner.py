"""Run an import over a stored file in chunks, with bounded memory and progress reports.

Every import reads the file twice. The first pass parses and checks each chunk
of CHUNK_ROWS lines against the database and writes nothing: a dry run stops
there, and so does an import that would fail (an unreadable file, or a strict
import with an invalid line). The second pass parses and checks each chunk
again, since stored rows may have changed meanwhile, and writes it. A lenient
import commits each chunk in its own transaction. A strict import writes every
chunk in one transaction and rolls it all back when a line has become invalid
since the first pass, so it never leaves part of a file written.

Memory holds one chunk plus a set of 64-bit hashes of the keys seen so far, used
to reject a key that an earlier chunk already had (about 60 bytes a row:
bench/results-import.md has the peak resident memory of a million-row file).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import BinaryIO

from django.db import IntegrityError, connection, transaction

from crm.importing.changes import ChangeCounts
from crm.importing.csvfile import CsvReader, FileFormat, ParsedFile
from crm.models import ImportRun
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

CHUNK_ROWS = 5000
MAX_STORED_ERRORS = 500
# After this many rows, the planner's statistics are refreshed before the pipeline
# queries the new rows: with stale statistics, the pipeline step of bench/pipeline.py
# ran about seven times slower.
ANALYZE_AFTER_ROWS = 5000

# Called with (rows done, rows expected or None, stage text).
Progress = Callable[[int, int | None, str], None]
Opener = Callable[[], AbstractContextManager[BinaryIO]]


@dataclass
class Tally:
    """Counts and the first errors of one pass over the file."""

    total: int = 0
    rejected: int = 0
    written_created: int = 0
    written_updated: int = 0
    changes: ChangeCounts = field(default_factory=ChangeCounts)
    errors: list[dict] = field(default_factory=list)
    fatal: bool = False
    seen: set[int] = field(default_factory=set)

    def add_errors(self, parsed: ParsedFile) -> None:
        self.rejected += len(parsed.rejected_lines)
        room = MAX_STORED_ERRORS - len(self.errors)
        if room > 0:
            self.errors.extend(sorted(parsed.errors, key=lambda error: error["line"])[:room])


class _RolledBack(Exception):
    """Raised inside a strict import's write transaction to undo it."""


def reject_seen_keys(parsed: ParsedFile, keys: Callable[[dict], tuple], seen: set[int]) -> None:
    """Reject rows whose key an earlier chunk already had, then remember this chunk's keys.

    Keys are stored as 64-bit hashes, so two different keys can collide and the
    second row is then rejected as a duplicate.
    NOTE: the chance is about n²/2⁶⁵, below one in ten million for a million rows.
    """
    valid_rows = []
    chunk_hashes = []
    for line, row in parsed.rows:
        hashes = [hash((index, value)) for index, value in enumerate(keys(row)) if value]
        if any(value in seen for value in hashes):
            parsed.reject(
                line,
                "external_id" if "external_id" in row else "",
                str(next(value for value in keys(row) if value)),
                "Duplicate of a line earlier in the file: each key may appear once.",
            )
            continue
        chunk_hashes.extend(hashes)
        valid_rows.append((line, row))
    parsed.rows = valid_rows
    seen.update(chunk_hashes)


def _check_chunk(run, importer, parsed: ParsedFile, tally: Tally) -> None:
    if not parsed.fatal:
        importer.check(run.tenant, parsed)
        reject_seen_keys(parsed, importer.keys, tally.seen)
        if importer.classify is not None:
            tally.changes.add(importer.classify(run.tenant, parsed))
    tally.total += parsed.total
    tally.fatal = tally.fatal or parsed.fatal
    tally.add_errors(parsed)


def check_pass(run, importer, opener: Opener, file_format: FileFormat, progress) -> Tally:
    """Parse and check every chunk without writing; return the tally."""
    tally = Tally()
    with opener() as binary:
        reader = CsvReader(binary, importer.columns, file_format)
        for parsed in reader.chunks(CHUNK_ROWS):
            # The deals check locks the stored deals it compares until this commits.
            with transaction.atomic():
                _check_chunk(run, importer, parsed, tally)
            progress(tally.total, "Checking lines")
    return tally


def _write_chunk(run, importer, parsed: ParsedFile, tally: Tally) -> None:
    _check_chunk(run, importer, parsed, tally)
    if parsed.rows:
        created, updated = importer.write(run.tenant, parsed, run)
        tally.written_created += created
        tally.written_updated += updated


def _write_lenient_chunk(run, importer, parsed: ParsedFile, tally: Tally) -> None:
    """Write one chunk in its own transaction; a write conflict rejects the chunk's lines."""
    before = (tally.total, tally.rejected, len(tally.errors), tally.changes.unchanged)
    try:
        with transaction.atomic():
            _write_chunk(run, importer, parsed, tally)
    except IntegrityError:
        logger.exception("import.chunk_conflict tenant_id=%s import_id=%s", run.tenant_id, run.pk)
        lines = [line for line, _ in parsed.rows]
        tally.total, tally.rejected = before[0] + parsed.total, before[1] + parsed.total
        del tally.errors[before[2] :]
        tally.changes.unchanged = before[3]
        if len(tally.errors) < MAX_STORED_ERRORS:
            tally.errors.append(
                {
                    "line": min(lines, default=0),
                    "column": "",
                    "value": "",
                    "message": f"Another import or request wrote the same rows at the same "
                    f"time, so lines {min(lines, default=0)} to {max(lines, default=0)} "
                    "were not written: import the file again.",
                }
            )


def write_pass(run, importer, opener: Opener, file_format: FileFormat, progress) -> Tally:
    """Check and write every chunk; a strict run raises _RolledBack when a line fails now."""
    tally = Tally()
    with opener() as binary:
        reader = CsvReader(binary, importer.columns, file_format)
        if run.strict:
            with transaction.atomic():
                for parsed in reader.chunks(CHUNK_ROWS):
                    _write_chunk(run, importer, parsed, tally)
                    if tally.errors or tally.fatal:
                        raise _RolledBack(tally)
                    # NOTE: these writes are in the import's transaction, so other
                    # connections see the strict write pass's progress only at commit.
                    progress(tally.total, "Writing lines")
        else:
            for parsed in reader.chunks(CHUNK_ROWS):
                _write_lenient_chunk(run, importer, parsed, tally)
                progress(tally.total, "Writing lines")
    return tally


def _save(run: ImportRun, tally: Tally, *, created: int, updated: int, status: str) -> None:
    run.status = status
    run.rows_total = tally.total
    run.rows_rejected = tally.rejected
    run.rows_created = created
    run.rows_updated = updated
    run.rows_unchanged = tally.changes.unchanged
    run.errors = tally.errors
    run.save()


def import_execute(
    run: ImportRun,
    importer,
    opener: Opener,
    file_format: FileFormat,
    *,
    estimated_rows: int | None = None,
    progress: Progress | None = None,
) -> ImportRun:
    """Check, and unless the run is a dry run, write the file; record the outcome on `run`."""
    tenant = run.tenant
    passes = 1 if run.dry_run else 2

    def report(done_in_pass: int, stage: str, offset: int = 0) -> None:
        if progress is None:
            return
        total = estimated_rows * passes if estimated_rows is not None else None
        done = offset + done_in_pass
        progress(min(done, total) if total else done, total, stage)

    logger.info(
        "import.started tenant_id=%s import_id=%s kind=%s strict=%s dry_run=%s",
        tenant.pk,
        run.pk,
        run.kind,
        run.strict,
        run.dry_run,
    )
    with tenant_scope(tenant):
        run.status = ImportRun.Status.RUNNING
        run.save(update_fields=["status", "updated_at"])
        checked = check_pass(run, importer, opener, file_format, report)
        valid = checked.total - checked.rejected
        fails = checked.fatal or (checked.errors and valid == 0) or (run.strict and checked.errors)
        if run.dry_run or fails:
            if not run.dry_run:
                checked.changes = ChangeCounts()
            _save(
                run,
                checked,
                created=checked.changes.create,
                updated=checked.changes.update,
                status=ImportRun.Status.FAILED if fails else ImportRun.Status.CHECKED,
            )
            _log_finished(run)
            return run

        def write_report(done: int, stage: str) -> None:
            report(done, stage, offset=checked.total)

        try:
            written = write_pass(run, importer, opener, file_format, write_report)
        except _RolledBack as rolled_back:
            written = rolled_back.args[0]
            written.changes = ChangeCounts()
            _save(run, written, created=0, updated=0, status=ImportRun.Status.FAILED)
            _log_finished(run)
            return run
        except IntegrityError:
            logger.exception("import.write_conflict tenant_id=%s import_id=%s", tenant.pk, run.pk)
            written = Tally(total=checked.total)
            written.errors = [
                {
                    "line": 0,
                    "column": "",
                    "value": "",
                    "message": "Another import or request wrote the same rows at the same "
                    "time, so nothing was written: import the file again.",
                }
            ]
            _save(run, written, created=0, updated=0, status=ImportRun.Status.FAILED)
            _log_finished(run)
            return run
        status = ImportRun.Status.PARTIAL if written.errors else ImportRun.Status.SUCCEEDED
        # Writers count an unchanged row as updated; the run reports it as unchanged.
        updated = max(written.written_updated - written.changes.unchanged, 0)
        _save(run, written, created=written.written_created, updated=updated, status=status)
        if written.total - written.rejected >= ANALYZE_AFTER_ROWS:
            tables_analyze(importer.tables)
    _log_finished(run)
    return run


def tables_analyze(tables: tuple[str, ...]) -> None:
    """Refresh the planner statistics of `tables` after a large write."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")  # noqa: S608 - fixed table names


def _log_finished(run: ImportRun) -> None:
    logger.info(
        "import.finished tenant_id=%s import_id=%s status=%s created=%s updated=%s "
        "unchanged=%s rejected=%s",
        run.tenant_id,
        run.pk,
        run.status,
        run.rows_created,
        run.rows_updated,
        run.rows_unchanged,
        run.rows_rejected,
    )
