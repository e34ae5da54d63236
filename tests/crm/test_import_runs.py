"""Import runs: saved mappings, dry runs, chunked passes, the worker job and re-imports."""

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from crm.importing import FileFormat, csv_import, runner, uploads
from crm.importing.mappings import file_format_resolve, mapping_save
from crm.models import Account, Deal, ImportMapping, ImportRun
from jobs.models import Job
from tenancy.errors import DomainError, NotFound
from tests.factories import AccountFactory

CRM_EXPORT = b"Account ID;Company;Revenue\nA1;Acme;1.234,50\nA2;Globex;99,95\n"


def _accounts_csv(count: int, *, bad_line: int | None = None, repeat: int | None = None) -> bytes:
    lines = ["external_id,name,employees"]
    for number in range(1, count + 1):
        employees = "lots" if number == bad_line else str(number)
        external_id = f"A{repeat}" if number == count and repeat else f"A{number}"
        lines.append(f"{external_id},Company {number},{employees}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(runner, "CHUNK_ROWS", 2)


def test_mapping_saved_and_reused(scoped):
    mapping = {"Account ID": "external_id", "Company": "name", "Revenue": "annual_revenue"}
    first_format = file_format_resolve(
        tenant=scoped, kind="accounts", source="crm-export", mapping=mapping, locale="de"
    )
    first = csv_import(
        tenant=scoped,
        kind="accounts",
        content=CRM_EXPORT,
        filename="a.csv",
        file_format=first_format,
    )
    reused_format = file_format_resolve(tenant=scoped, kind="accounts", source="crm-export")
    second = csv_import(
        tenant=scoped,
        kind="accounts",
        content=CRM_EXPORT.replace(b"99,95", b"100,00"),
        filename="b.csv",
        file_format=reused_format,
    )

    assert first.status == ImportRun.Status.SUCCEEDED
    assert second.status == ImportRun.Status.SUCCEEDED
    assert (second.rows_created, second.rows_updated, second.rows_unchanged) == (0, 1, 1)
    saved = ImportMapping.objects.get()
    assert (saved.kind, saved.source, saved.locale) == ("accounts", "crm-export", "de")
    assert reused_format.mapping == mapping
    assert str(Account.objects.get(external_id="A2").annual_revenue) == "100.00"


def test_mapping_rejects_unknown_column(scoped):
    with pytest.raises(DomainError, match="Unknown column 'revenue_eur'"):
        mapping_save(
            tenant=scoped, kind="accounts", source="crm", mapping={"Revenue": "revenue_eur"}
        )


def test_mapping_unknown_source_not_found(scoped):
    with pytest.raises(NotFound, match="No saved deals mapping"):
        file_format_resolve(tenant=scoped, kind="deals", source="crm-export")


def test_mapping_is_per_tenant(scoped, other_tenant):
    mapping_save(tenant=other_tenant, kind="accounts", source="crm", mapping={"Id": "external_id"})

    with pytest.raises(NotFound):
        file_format_resolve(tenant=scoped, kind="accounts", source="crm")


def test_invalid_format_option_names_field(scoped):
    with pytest.raises(DomainError) as caught:
        file_format_resolve(tenant=scoped, kind="accounts", locale="xx")

    assert caught.value.field == "locale"
    assert caught.value.value == "xx"


def test_dry_run_writes_nothing(scoped):
    AccountFactory(tenant=scoped, external_id="A1", name="Company 1", employees=1)
    AccountFactory(tenant=scoped, external_id="A2", name="Old name", employees=2)
    before = list(Account.objects.order_by("pk").values())

    run = csv_import(
        tenant=scoped,
        kind="accounts",
        content=_accounts_csv(3),
        filename="a.csv",
        dry_run=True,
    )

    assert run.status == ImportRun.Status.CHECKED
    assert (run.rows_created, run.rows_updated, run.rows_unchanged) == (1, 1, 1)
    assert list(Account.objects.order_by("pk").values()) == before


def test_dry_run_reports_line_errors(scoped):
    run = csv_import(
        tenant=scoped,
        kind="accounts",
        content=_accounts_csv(3, bad_line=2),
        filename="a.csv",
        dry_run=True,
    )

    assert run.status == ImportRun.Status.FAILED
    assert [(error["line"], error["column"]) for error in run.errors] == [(3, "employees")]
    assert Account.objects.count() == 0


def test_strict_error_in_late_chunk_writes_nothing(scoped, small_chunks):
    run = csv_import(
        tenant=scoped, kind="accounts", content=_accounts_csv(7, bad_line=6), filename="a.csv"
    )

    assert run.status == ImportRun.Status.FAILED
    assert run.rows_total == 7
    assert run.errors[0]["line"] == 7
    assert Account.objects.count() == 0


def test_lenient_writes_valid_chunks(scoped, small_chunks):
    run = csv_import(
        tenant=scoped,
        kind="accounts",
        content=_accounts_csv(7, bad_line=6),
        filename="a.csv",
        strict=False,
    )

    assert run.status == ImportRun.Status.PARTIAL
    assert (run.rows_total, run.rows_created, run.rows_rejected) == (7, 6, 1)
    assert Account.objects.count() == 6


def test_duplicate_across_chunks_rejected(scoped, small_chunks):
    run = csv_import(
        tenant=scoped,
        kind="accounts",
        content=_accounts_csv(5, repeat=1),
        filename="a.csv",
        strict=False,
    )

    assert run.rows_rejected == 1
    assert run.errors[0]["line"] == 6
    assert "Duplicate of a line earlier in the file" in run.errors[0]["message"]
    assert Account.objects.get(external_id="A1").name == "Company 1"


def test_broken_line_late_writes_nothing_lenient(scoped, small_chunks):
    content = _accounts_csv(6) + b'A9,"Unclosed\n'

    run = csv_import(
        tenant=scoped, kind="accounts", content=content, filename="a.csv", strict=False
    )

    assert run.status == ImportRun.Status.FAILED
    assert "close every quote" in run.errors[-1]["message"]
    assert Account.objects.count() == 0


DEALS_CSV = (
    b"external_id,stage,account_external_id,amount,currency,close_date\n"
    b"D1,won,acc-1,1200.00,EUR,2026-01-15\n"
    b"D2,open,acc-1,300,EUR,\n"
    b"D3,lost,acc-1,50.5,USD,2026-02-01\n"
)


def test_deals_reimport_changes_nothing(scoped):
    AccountFactory(tenant=scoped, external_id="acc-1")
    first = csv_import(tenant=scoped, kind="deals", content=DEALS_CSV, filename="d.csv")
    stored = list(Deal.objects.order_by("pk").values("external_id", "amount", "stage"))

    second = csv_import(tenant=scoped, kind="deals", content=DEALS_CSV, filename="d.csv")

    assert (first.rows_created, first.rows_updated) == (3, 0)
    assert (second.rows_created, second.rows_updated, second.rows_unchanged) == (0, 0, 3)
    assert second.sha256 == hashlib.sha256(DEALS_CSV).hexdigest()
    assert uploads.same_file_run(second) == first
    assert list(Deal.objects.order_by("pk").values("external_id", "amount", "stage")) == stored


def test_worker_job_reports_progress(
    scoped, small_chunks, monkeypatch, django_capture_on_commit_callbacks
):
    reported = []
    original = uploads.job_progress

    def record(**values):
        reported.append((values["done"], values["total"], values["stage"]))
        original(**values)

    monkeypatch.setattr(uploads, "job_progress", record)
    upload = SimpleUploadedFile("big.csv", _accounts_csv(5), content_type="text/csv")

    with django_capture_on_commit_callbacks(execute=True):
        run = uploads.import_request(
            tenant=scoped,
            kind="accounts",
            upload=upload,
            filename="big.csv",
            file_format=FileFormat(),
            background=True,
        )

    run.refresh_from_db()
    job = Job.objects.get(pk=run.job_id)
    assert job.kind == Job.Kind.CSV_IMPORT
    assert job.status == Job.Status.SUCCEEDED
    assert job.total == 10
    assert job.result == {"import_id": run.pk, "status": "succeeded"}
    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.rows_created == 5
    assert run.stored_file == ""
    assert [done for done, _, _ in reported] == [2, 4, 5, 7, 9, 10]
    assert {stage for _, _, stage in reported} == {"Checking lines", "Writing lines"}
    assert list((Path(uploads.import_dir()) / str(scoped.pk)).glob("*.csv")) == []


def test_inline_upload_below_threshold(scoped, settings):
    settings.TRACK360_IMPORT_INLINE_MAX_BYTES = 10_000
    upload = SimpleUploadedFile("a.csv", _accounts_csv(2), content_type="text/csv")

    run = uploads.import_request(
        tenant=scoped, kind="accounts", upload=upload, filename="a.csv", file_format=FileFormat()
    )

    assert run.job is None
    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.sha256 == hashlib.sha256(_accounts_csv(2)).hexdigest()


def test_upload_above_threshold_is_queued(scoped, settings):
    settings.TRACK360_IMPORT_INLINE_MAX_BYTES = 10
    upload = SimpleUploadedFile("a.csv", _accounts_csv(2), content_type="text/csv")

    run = uploads.import_request(
        tenant=scoped, kind="accounts", upload=upload, filename="a.csv", file_format=FileFormat()
    )

    assert run.status == ImportRun.Status.QUEUED
    assert run.job.status == Job.Status.QUEUED
    assert (Path(uploads.import_dir()) / run.stored_file).is_file()
    assert Account.objects.count() == 0


def test_command_dry_run_then_import(tenant, tmp_path, capsys):
    path = tmp_path / "deals.csv"
    path.write_bytes(b"external_id;name;annual_revenue;churned_on\nA1;Acme;1.234,56;31/12/2025\n")
    arguments = ["csv_import", "--tenant", tenant.slug, "--kind", "accounts", "--file", str(path)]
    arguments += ["--locale", "de", "--date-format", "DMY", "--delimiter", ";"]

    call_command(*arguments, "--dry-run")
    dry_output = capsys.readouterr()
    call_command(*arguments)
    output = capsys.readouterr()

    assert "checked, nothing written: 1 lines, 1 would create" in dry_output.out
    assert "Checking lines: 1 of about 1 (100%)" in dry_output.err
    assert "succeeded: 1 lines, 1 created" in output.out
    assert "Same file as import" in output.out
    account = Account.all_tenants.get(tenant=tenant, external_id="A1")
    assert str(account.annual_revenue) == "1234.56"
    assert account.churned_on.isoformat() == "2025-12-31"


def test_command_rejects_bad_option(tenant, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"external_id,name\n")

    with pytest.raises(CommandError, match="Unknown encoding"):
        call_command(
            "csv_import",
            "--tenant",
            tenant.slug,
            "--kind",
            "accounts",
            "--file",
            str(path),
            "--encoding",
            "klingon",
        )
