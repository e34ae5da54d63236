"""CSV upload from the Imports page: good files write accounts, bad ones list their errors."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from crm.models import Account, ImportRun
from tenancy.scope import tenant_scope

GOOD_CSV = (
    b"external_id,name,domain,industry,employees,country\n"
    b"acc-100,Hooli,hooli.com,software,1200,US\n"
    b"acc-101,Pied Piper,https://www.piedpiper.com/,software,40,US\n"
)
# Line 3 misses its name and has a text employee count, and line 4 has an unknown country.
BAD_CSV = (
    b"external_id,name,employees,country\n"
    b"acc-200,Good Co,10,US\n"
    b"acc-201,,many,US\n"
    b"acc-202,Nowhere Ltd,5,Atlantis\n"
)


def post_upload(client, content: bytes, *, kind: str = "accounts", strict: bool = True):
    data = {"kind": kind, "file": SimpleUploadedFile("upload.csv", content, "text/csv")}
    if strict:
        data["strict"] = "on"
    return client.post(reverse("crm:import_upload"), data, follow=True)


def test_good_csv_creates_accounts(staff_client, tenant):
    response = post_upload(staff_client, GOOD_CSV)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/accounts/imports/")
    with tenant_scope(tenant):
        run = ImportRun.objects.get()
        accounts = {account.external_id: account for account in Account.objects.all()}
    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.rows_created == 2
    assert sorted(accounts) == ["acc-100", "acc-101"]
    assert accounts["acc-101"].domain == "piedpiper.com"
    assert "Imported 2 new and 0 updated rows." in response.content.decode()


def test_bad_csv_strict_lists_line_errors(staff_client, tenant):
    response = post_upload(staff_client, BAD_CSV)
    content = response.content.decode()

    with tenant_scope(tenant):
        run = ImportRun.objects.get()
        assert not Account.objects.exists()
    assert run.status == ImportRun.Status.FAILED
    assert {error["line"] for error in run.errors} == {3, 4}
    assert "Nothing was written" in content
    for error in run.errors:
        assert escape(error["message"]) in content
        assert f'<td class="num">{error["line"]}</td>' in content
        assert f"<code>{error['column']}</code>" in content
    assert "<code>many</code>" in content
    assert "<code>Atlantis</code>" in content


def test_bad_csv_lenient_writes_valid_lines(staff_client, tenant):
    response = post_upload(staff_client, BAD_CSV, strict=False)

    with tenant_scope(tenant):
        run = ImportRun.objects.get()
        names = list(Account.objects.values_list("name", flat=True))
    assert run.status == ImportRun.Status.PARTIAL
    assert names == ["Good Co"]
    assert "2 lines were rejected" in response.content.decode()


def test_upload_without_file_shows_form_error(staff_client, tenant):
    response = staff_client.post(reverse("crm:import_upload"), {"kind": "accounts"})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    with tenant_scope(tenant):
        assert not ImportRun.objects.exists()


def test_upload_rejects_unknown_kind(staff_client, tenant):
    data = {"kind": "invoices", "file": SimpleUploadedFile("r.csv", GOOD_CSV, "text/csv")}

    response = staff_client.post(reverse("crm:import_upload"), data)

    assert response.status_code == 400
    with tenant_scope(tenant):
        assert not ImportRun.objects.exists()


def test_deal_csv_needs_known_account(staff_client, tenant):
    content = b"external_id,stage,account_external_id,close_date\nd-1,won,missing,2024-01-05\n"

    response = post_upload(staff_client, content, kind="deals")

    assert escape("No account has this external_id") in response.content.decode()


def test_import_list_shows_recent_runs(staff_client, tenant):
    post_upload(staff_client, GOOD_CSV)

    content = staff_client.get(reverse("crm:import_list")).content.decode()

    assert "upload.csv" in content
    assert "Succeeded" in content


def test_lenient_csv_one_rejected_line_is_singular(staff_client, tenant):
    content = b"external_id,name\nacc-300,Good Co\nacc-301,\n"

    response = post_upload(staff_client, content, strict=False)
    page = response.content.decode()

    assert "Imported the valid lines, but 1 line was rejected (listed below)." in page
    assert "1 lines" not in page
    assert '<span class="muted">(empty)</span>' in page


def test_not_utf8_file_shows_no_line_counts(staff_client, tenant):
    content = "external_id,name\nacc-400,Café Müller\n".encode("latin-1")

    response = post_upload(staff_client, content)
    page = response.content.decode()
    listed = staff_client.get(reverse("crm:import_list")).content.decode()

    assert "the file was rejected before any line was read" in page
    assert "Rejected lines" not in page
    assert "(empty)" not in page
    assert "File rejected before any line was read" in listed


def test_missing_header_column_value_is_not_empty(staff_client, tenant):
    response = post_upload(staff_client, b"name\nHooli\n")
    page = response.content.decode()

    assert "Required column &#x27;external_id&#x27; is missing from the header:" in page
    assert '<td><span class="muted">–</span></td>' in page
    assert "(empty)" not in page


def test_upload_rejects_file_over_limit(staff_client, tenant, settings):
    settings.TRACK360_MAX_IMPORT_BYTES = 10
    data = {"kind": "accounts", "file": SimpleUploadedFile("a.csv", GOOD_CSV, "text/csv")}

    response = staff_client.post(reverse("crm:import_upload"), data)

    assert response.status_code == 400
    assert "more than the limit of 10 bytes" in response.content.decode()
    with tenant_scope(tenant):
        assert not ImportRun.objects.exists()


def test_dry_run_upload_writes_nothing(staff_client, tenant):
    data = {
        "kind": "accounts",
        "file": SimpleUploadedFile("upload.csv", GOOD_CSV, "text/csv"),
        "strict": "on",
        "dry_run": "on",
    }

    response = staff_client.post(reverse("crm:import_upload"), data, follow=True)

    page = response.content.decode()
    assert "Dry run, nothing written." in page
    assert "Would create" in page
    with tenant_scope(tenant):
        assert ImportRun.objects.get().status == ImportRun.Status.CHECKED
        assert Account.objects.count() == 0


def test_upload_with_mapping_and_locale(staff_client, tenant):
    data = {
        "kind": "accounts",
        "file": SimpleUploadedFile("erp.csv", b"Nr;Firma;Umsatz\nK1;Acme;1.234,50\n", "text/csv"),
        "strict": "on",
        "source": "erp",
        "mapping": "Nr = external_id\nFirma = name\nUmsatz = annual_revenue",
        "locale": "de",
    }

    staff_client.post(reverse("crm:import_upload"), data, follow=True)

    with tenant_scope(tenant):
        assert str(Account.objects.get(external_id="K1").annual_revenue) == "1234.50"


def test_invalid_mapping_line_shows_error(staff_client, tenant):
    data = {
        "kind": "accounts",
        "file": SimpleUploadedFile("erp.csv", GOOD_CSV, "text/csv"),
        "mapping": "just a header",
    }

    response = staff_client.post(reverse("crm:import_upload"), data)

    assert response.status_code == 400
    assert escape("is not 'File header = column'") in response.content.decode()


def test_queued_import_shows_progress_bar(staff_client, tenant, settings):
    settings.TRACK360_IMPORT_INLINE_MAX_BYTES = 10

    response = post_upload(staff_client, GOOD_CSV)

    page = response.content.decode()
    assert "queued for the worker" in page
    assert '<progress class="job-bar"' in page
    with tenant_scope(tenant):
        assert ImportRun.objects.get().status == ImportRun.Status.QUEUED


def test_import_page_polls_until_finished(staff_client, tenant, settings):
    from crm.tasks import csv_import_task

    settings.TRACK360_IMPORT_INLINE_MAX_BYTES = 10
    post_upload(staff_client, GOOD_CSV)
    with tenant_scope(tenant):
        run = ImportRun.objects.select_related("job").get()
    url = reverse("crm:import_detail", args=[run.pk])

    queued = staff_client.get(url).content.decode()
    assert 'hx-select="#import-result"' in queued
    assert '<meta http-equiv="refresh"' in queued
    assert "No errors: every line was valid" not in queued

    csv_import_task.apply(args=(tenant.pk, run.pk, run.job.pk))

    finished = staff_client.get(url).content.decode()
    assert 'hx-select="#import-result"' not in finished
    assert '<meta http-equiv="refresh"' not in finished
    assert '<progress class="job-bar"' not in finished
    assert '<div class="card-label">Created</div><div class="card-value">2</div>' in finished
    assert "No errors: every line was valid" in finished
    assert 'id="import-result"' in finished
