import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.models import Account, Deal, ImportRun
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory

ACCOUNTS_URL = "/api/v1/imports/accounts/"
DEALS_URL = "/api/v1/imports/deals/"

ACCOUNTS_CSV = (
    b"external_id,name,domain,employees,country\n"
    b"acc-1,Acme,www.acme.com,1200,Germany\n"
    b"acc-2,Initech,initech.io,80,US\n"
)
# Line 3 has a negative head count and line 4 an unknown country.
ACCOUNTS_CSV_WITH_ERRORS = (
    b"external_id,name,domain,employees,country\n"
    b"acc-1,Acme,acme.com,1200,DE\n"
    b"acc-2,Initech,initech.io,-3,US\n"
    b"acc-3,Hooli,hooli.xyz,40,Atlantis\n"
)


def csv_file(content: bytes, name: str = "accounts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_accounts_import_creates_rows(client, headers, scoped):
    response = client.post(ACCOUNTS_URL, {"file": csv_file(ACCOUNTS_CSV)}, headers=headers)

    assert response.status_code == 201
    body = response.json()
    run = ImportRun.objects.get()
    assert body.pop("created_at")
    assert body == {
        "id": run.pk,
        "kind": "accounts",
        "filename": "accounts.csv",
        "strict": True,
        "status": "succeeded",
        "rows_total": 2,
        "rows_created": 2,
        "rows_updated": 0,
        "rows_rejected": 0,
        "rows_unchanged": 0,
        "dry_run": False,
        "source": "",
        "sha256": hashlib.sha256(ACCOUNTS_CSV).hexdigest(),
        "same_file_as": None,
        "job": None,
        "errors": [],
    }
    acme = Account.objects.get(external_id="acc-1")
    assert acme.domain == "acme.com"
    assert acme.country == "DE"
    assert acme.employees == 1200


def test_accounts_import_twice_changes_nothing(client, headers, scoped):
    first = client.post(ACCOUNTS_URL, {"file": csv_file(ACCOUNTS_CSV)}, headers=headers)

    response = client.post(ACCOUNTS_URL, {"file": csv_file(ACCOUNTS_CSV)}, headers=headers)

    assert response.status_code == 201
    assert response.json()["rows_created"] == 0
    assert response.json()["rows_updated"] == 0
    assert response.json()["rows_unchanged"] == 2
    assert response.json()["same_file_as"] == first.json()["id"]
    assert Account.objects.count() == 2


def test_strict_import_with_errors_fails(client, headers, scoped):
    upload = csv_file(ACCOUNTS_CSV_WITH_ERRORS)

    response = client.post(ACCOUNTS_URL, {"file": upload}, headers=headers)

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "failed"
    assert body["strict"] is True
    assert body["rows_total"] == 3
    assert body["rows_rejected"] == 2
    assert body["rows_created"] == 0
    assert body["errors"] == [
        {
            "line": 3,
            "column": "employees",
            "value": "-3",
            "message": "Expected a whole number between 0 and 10000000.",
        },
        {
            "line": 4,
            "column": "country",
            "value": "Atlantis",
            "message": "Expected a country name or ISO 3166 code such as 'Germany' or 'DE'.",
        },
    ]
    assert Account.objects.count() == 0


def test_lenient_import_writes_valid_lines(client, headers, scoped):
    upload = csv_file(ACCOUNTS_CSV_WITH_ERRORS)

    response = client.post(ACCOUNTS_URL, {"file": upload, "strict": "false"}, headers=headers)

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "partial"
    assert body["strict"] is False
    assert body["rows_created"] == 1
    assert body["rows_rejected"] == 2
    assert list(Account.objects.values_list("external_id", flat=True)) == ["acc-1"]


def test_import_missing_header_column_fails(client, headers, scoped):
    upload = csv_file(b"name,domain\nAcme,acme.com\n")

    response = client.post(ACCOUNTS_URL, {"file": upload}, headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "line": 1,
            "column": "external_id",
            "value": "",
            "message": "Required column 'external_id' is missing from the header: rename the "
            "file's column to 'external_id', or map it in the source's column mapping, such as "
            '{"Your header": "external_id"}.',
        }
    ]


def test_deals_import_links_accounts(client, headers, scoped):
    account = AccountFactory(tenant=scoped, external_id="acc-acme")
    content = (
        b"external_id,stage,account_external_id,amount,currency,close_date\n"
        b"opp-1,Closed Lost,acc-acme,5000,usd,2024-02-01\n"
        b"opp-2,Prospecting,,750.25,USD,\n"
    )

    response = client.post(DEALS_URL, {"file": csv_file(content, "deals.csv")}, headers=headers)

    assert response.status_code == 201
    assert response.json()["kind"] == "deals"
    assert response.json()["rows_created"] == 2
    lost = Deal.objects.get(external_id="opp-1")
    assert lost.stage == Deal.Stage.LOST
    assert lost.account == account
    assert Deal.objects.get(external_id="opp-2").currency == "USD"


def test_deals_import_rejects_other_tenant_account(client, headers, other_tenant, scoped):
    with tenant_scope(other_tenant):
        AccountFactory(tenant=other_tenant, external_id="acc-globex")
    content = b"external_id,stage,account_external_id\nopp-1,open,acc-globex\n"

    response = client.post(DEALS_URL, {"file": csv_file(content, "deals.csv")}, headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"][0]["column"] == "account_external_id"
    assert response.json()["errors"][0]["value"] == "acc-globex"
    assert Deal.all_tenants.count() == 0


def test_import_records_session_user(client, admin_user, scoped):
    client.force_login(admin_user)

    response = client.post(ACCOUNTS_URL, {"file": csv_file(ACCOUNTS_CSV)})

    assert response.status_code == 201
    assert ImportRun.objects.get().created_by == admin_user


def test_import_rejects_unknown_kind(client, headers, scoped):
    url = "/api/v1/imports/invoices/"

    response = client.post(url, {"file": csv_file(ACCOUNTS_CSV)}, headers=headers)

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Unknown import kind.",
        "field": "kind",
        "value": "invoices",
        "fix": "Post to /api/v1/imports/accounts/, /deals/, /reach/, /revenue_events/ "
        "or /exchange_rates/.",
    }
    assert ImportRun.objects.count() == 0


def test_import_requires_file(client, headers, scoped):
    response = client.post(ACCOUNTS_URL, {"strict": "true"}, headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "file", "message": "No file was submitted."}]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("maybe", "Must be a valid boolean.", id="word"),
        pytest.param("2", "Must be a valid boolean.", id="number"),
    ],
)
def test_import_rejects_invalid_strict(client, headers, scoped, value, message):
    data = {"file": csv_file(ACCOUNTS_CSV), "strict": value}

    response = client.post(ACCOUNTS_URL, data, headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "strict", "value": value, "message": message}]
    assert ImportRun.objects.count() == 0


def test_import_of_empty_file_fails(client, headers, scoped):
    response = client.post(ACCOUNTS_URL, {"file": csv_file(b"")}, headers=headers)

    assert response.status_code == 400
    assert response.json()["status"] == "failed"
    assert response.json()["errors"] == [
        {
            "line": 1,
            "column": "",
            "value": "",
            "message": "The file is empty: the first line must be the column header.",
        }
    ]


def test_import_rejects_file_over_limit(client, headers, scoped, settings):
    settings.TRACK360_MAX_IMPORT_BYTES = 20

    response = client.post(ACCOUNTS_URL, {"file": csv_file(ACCOUNTS_CSV)}, headers=headers)

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": f"The file has {len(ACCOUNTS_CSV)} bytes, more than the limit of 20 bytes.",
        "field": "file",
        "value": "accounts.csv",
        "fix": "Split the file into smaller files and import each one.",
    }
    assert ImportRun.objects.count() == 0


def test_import_rejects_json_body(client, headers, scoped):
    response = client.post(
        ACCOUNTS_URL, {"file": "x"}, content_type="application/json", headers=headers
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_import_dry_run_returns_counts(client, headers, scoped):
    response = client.post(
        ACCOUNTS_URL, {"file": csv_file(ACCOUNTS_CSV), "dry_run": "true"}, headers=headers
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["dry_run"], body["rows_created"]) == ("checked", True, 2)
    assert Account.objects.count() == 0


def test_import_with_mapping_saves_source(client, headers, scoped):
    content = b"Kundennummer;Firma;Umsatz\nK1;Acme;1.234,50\n"
    data = {
        "file": csv_file(content),
        "source": "erp",
        "mapping": '{"Kundennummer": "external_id", "Firma": "name", "Umsatz": "annual_revenue"}',
        "locale": "de",
    }

    response = client.post(ACCOUNTS_URL, data, headers=headers)
    reused = client.post(
        ACCOUNTS_URL, {"file": csv_file(content), "source": "erp"}, headers=headers
    )
    listed = client.get("/api/v1/import-mappings/", headers=headers)

    assert response.status_code == 201
    assert reused.status_code == 201
    assert reused.json()["rows_unchanged"] == 1
    assert str(Account.objects.get(external_id="K1").annual_revenue) == "1234.50"
    assert [(item["kind"], item["source"], item["locale"]) for item in listed.json()] == [
        ("accounts", "erp", "de")
    ]


def test_import_invalid_mapping_json_rejected(client, headers, scoped):
    data = {"file": csv_file(ACCOUNTS_CSV), "source": "erp", "mapping": "{not json"}

    response = client.post(ACCOUNTS_URL, data, headers=headers)

    assert response.status_code == 400
    assert "not valid JSON" in response.content.decode()


def test_large_import_queued_then_status(client, headers, scoped, settings):
    settings.TRACK360_IMPORT_INLINE_MAX_BYTES = 10

    response = client.post(ACCOUNTS_URL, {"file": csv_file(ACCOUNTS_CSV)}, headers=headers)
    status = client.get(f"/api/v1/imports/{response.json()['id']}/", headers=headers)

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert response.json()["job"]["status"] == "queued"
    assert status.status_code == 200
    assert status.json()["job"]["total"] == 4


def test_import_status_of_other_tenant_is_404(client, headers, other_tenant):
    run = ImportRun.all_tenants.create(tenant=other_tenant, kind="accounts", status="succeeded")

    response = client.get(f"/api/v1/imports/{run.pk}/", headers=headers)

    assert response.status_code == 404
