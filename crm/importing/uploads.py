"""Stored uploads: keep the file, run it now or in the worker, and find re-imports.

An upload is written to TRACK360_IMPORT_DIR while its SHA-256 and line count are
computed. Files up to TRACK360_IMPORT_INLINE_MAX_BYTES import during the request;
larger ones become a queued run with a jobs.Job that the worker moves forward, so
the page and `GET /api/v1/imports/{id}/` can show its progress. The stored file
is removed when its import finishes.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from crm.importing import importer_get
from crm.importing.csvfile import FileFormat
from crm.importing.mappings import file_format_from_json, file_format_to_json
from crm.importing.runner import import_execute
from crm.models import ImportRun
from jobs.models import Job
from jobs.services import job_create, job_progress, job_start, job_succeed
from tenancy.queue import enqueue_on_commit
from tenancy.scope import tenant_scope
from tenancy.services import actor_user

logger = logging.getLogger(__name__)

READ_BLOCK_BYTES = 1024 * 1024


def import_dir() -> Path:
    return Path(settings.TRACK360_IMPORT_DIR)


def upload_store(*, tenant, chunks) -> tuple[str, str, int, int]:
    """Write the upload's byte chunks under the import folder.

    Returns (path relative to the folder, hex SHA-256, size in bytes, newline count).
    """
    relative = f"{tenant.pk}/{uuid.uuid4().hex}.csv"
    path = import_dir() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    newlines = 0
    with path.open("wb") as stored:
        for block in chunks:
            digest.update(block)
            size += len(block)
            newlines += block.count(b"\n")
            stored.write(block)
    return relative, digest.hexdigest(), size, newlines


def file_digest(path: Path) -> tuple[str, int, int]:
    """Return (hex SHA-256, size, newline count) of a file, reading it in blocks."""
    digest = hashlib.sha256()
    size = 0
    newlines = 0
    with path.open("rb") as source:
        while block := source.read(READ_BLOCK_BYTES):
            digest.update(block)
            size += len(block)
            newlines += block.count(b"\n")
    return digest.hexdigest(), size, newlines


def _estimated_rows(newlines: int) -> int:
    # Quoted cells may hold newlines, so this can be higher than the line count.
    return max(newlines - 1, 1)


def import_request(
    *,
    tenant,
    kind: str,
    upload,
    filename: str,
    file_format: FileFormat,
    strict: bool = True,
    dry_run: bool = False,
    source: str = "",
    actor=None,
    background: bool | None = None,
) -> ImportRun:
    """Store an uploaded file and import it now or queue it for the worker.

    `upload` is a Django UploadedFile. `background` None decides by size: files
    larger than TRACK360_IMPORT_INLINE_MAX_BYTES go to the worker.
    """
    importer_get(kind)
    relative, sha256, size, newlines = upload_store(tenant=tenant, chunks=upload.chunks())
    if background is None:
        background = size > settings.TRACK360_IMPORT_INLINE_MAX_BYTES
    run = ImportRun.all_tenants.create(
        tenant=tenant,
        kind=kind,
        filename=filename[:255],
        strict=strict,
        dry_run=dry_run,
        source=source,
        file_format=file_format_to_json(file_format),
        sha256=sha256,
        stored_file=relative,
        status=ImportRun.Status.QUEUED,
        created_by=actor_user(actor),
    )
    logger.info(
        "import.stored tenant_id=%s import_id=%s bytes=%s background=%s",
        tenant.pk,
        run.pk,
        size,
        background,
    )
    if not background:
        try:
            return import_stored_run(run=run, estimated_rows=_estimated_rows(newlines))
        except Exception:
            # The request fails, so nothing will read the stored file again.
            (import_dir() / relative).unlink(missing_ok=True)
            raise

    from crm.tasks import csv_import_task

    job = job_create(
        tenant=tenant,
        kind=Job.Kind.CSV_IMPORT,
        subject=f"import:{run.pk}",
        actor=actor,
        total=_estimated_rows(newlines) * (1 if dry_run else 2),
    )
    run.job = job
    run.save(update_fields=["job", "updated_at"])
    enqueue_on_commit(csv_import_task, tenant.pk, run.pk, job.pk)
    return run


def import_stored_run(*, run: ImportRun, estimated_rows: int | None = None, progress=None):
    """Import the run's stored file, then remove the file; return the run."""
    path = import_dir() / run.stored_file
    try:
        return import_execute(
            run,
            importer_get(run.kind),
            lambda: path.open("rb"),
            file_format_from_json(run.file_format),
            estimated_rows=estimated_rows,
            progress=progress,
        )
    finally:
        if run.finished:
            path.unlink(missing_ok=True)
            ImportRun.all_tenants.filter(pk=run.pk).update(stored_file="")
            run.stored_file = ""


def import_job_run(*, tenant, import_id: int, job_id: int) -> ImportRun | None:
    """Run a queued import in the worker, reporting progress to its job.

    Returns the finished run, or None when the job was already finished or the
    run is gone. Errors propagate, and the task marks the job failed.
    """
    job = Job.all_tenants.filter(pk=job_id, tenant_id=tenant.pk).first()
    total = job.total if job is not None else None
    if not job_start(job_id=job_id, tenant_id=tenant.pk, stage="Reading the file", total=total):
        return None
    with tenant_scope(tenant):
        run = ImportRun.objects.select_related("tenant").filter(pk=import_id).first()
    if run is None or not run.stored_file:
        job_succeed(
            job_id=job_id,
            tenant_id=tenant.pk,
            message=f"Import {import_id} was not found or has no stored file: nothing to run.",
        )
        return None

    def progress(done: int, total: int | None, stage: str) -> None:
        job_progress(job_id=job_id, tenant_id=tenant.pk, done=done, total=total, stage=stage)

    run = import_stored_run(run=run, estimated_rows=_rows_from_job(total, run), progress=progress)
    job_succeed(
        job_id=job_id,
        tenant_id=tenant.pk,
        message=import_summary(run),
        result={"import_id": run.pk, "status": run.status},
        target_url=reverse("crm:import_detail", args=[run.pk]),
    )
    return run


def _rows_from_job(total: int | None, run: ImportRun) -> int | None:
    # The job's total counts each line once per pass.
    if not total:
        return None
    return total // (1 if run.dry_run else 2)


def import_summary(run: ImportRun) -> str:
    created = "would create" if run.dry_run else "created"
    updated = "would update" if run.dry_run else "updated"
    status = run.get_status_display().lower()
    return (
        f"Import {run.pk} {status}: {run.rows_total} lines, {run.rows_created} {created}, "
        f"{run.rows_updated} {updated}, {run.rows_unchanged} unchanged, "
        f"{run.rows_rejected} rejected."
    )


def same_file_run(run: ImportRun) -> ImportRun | None:
    """Return the latest earlier run of the tenant that imported the same bytes, or None."""
    if not run.sha256:
        return None
    return (
        ImportRun.all_tenants.filter(
            tenant_id=run.tenant_id, sha256=run.sha256, kind=run.kind, pk__lt=run.pk
        )
        .order_by("-pk")
        .first()
    )


def import_path(
    *,
    tenant,
    kind: str,
    path: Path,
    file_format: FileFormat,
    strict: bool = True,
    dry_run: bool = False,
    source: str = "",
    actor=None,
    progress=None,
) -> ImportRun:
    """Import a file on this machine in place, without storing a copy; return the run."""
    importer = importer_get(kind)
    sha256, _size, newlines = file_digest(path)
    run = ImportRun.all_tenants.create(
        tenant=tenant,
        kind=kind,
        filename=path.name[:255],
        strict=strict,
        dry_run=dry_run,
        source=source,
        file_format=file_format_to_json(file_format),
        sha256=sha256,
        status=ImportRun.Status.RUNNING,
        created_by=actor_user(actor),
    )
    return import_execute(
        run,
        importer,
        lambda: path.open("rb"),
        file_format,
        estimated_rows=_estimated_rows(newlines),
        progress=progress,
    )
