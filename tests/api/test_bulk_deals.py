import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commissions.models import LedgerEntry
from crm import bulk
from crm.models import Deal
from tests.factories import AccountFactory, DealFactory, PartnerFactory

URL = "/api/v1/deals/bulk/"


def deal_row(external_id: str, **fields) -> dict:
    row = {
        "external_id": external_id,
        "stage": "open",
        "amount": "1000.00",
        "currency": "USD",
        "close_date": "2024-05-31",
        "account_external_id": "acc-acme",
    }
    row.update(fields)
    return row


def post(client, headers, rows, mode="atomic", **extra):
    return client.post(
        URL, {"mode": mode, "rows": rows}, content_type="application/json", headers=headers, **extra
    )


@pytest.fixture
def acme(scoped):
    return AccountFactory(
        tenant=scoped, external_id="acc-acme", name="Acme", domain="acme.com", industry="software"
    )


INVALID_ROWS = [
    (deal_row("bad-amount", amount="12.345"), "amount", "12.345"),
    (deal_row("bad-amount-text", amount="lots"), "amount", "lots"),
    (deal_row("unknown-account", account_external_id="acc-nobody"), "account_external_id",
     "acc-nobody"),
    (deal_row("won-no-date", stage="won", close_date=None), "close_date", None),
    (deal_row("bad-currency", currency="XYZ"), "currency", "XYZ"),
    (deal_row("bad-stage", stage="maybe"), "stage", "maybe"),
]  # fmt: skip


# Atomic mode


def test_atomic_creates_every_row(client, headers, acme):
    response = post(client, headers, [deal_row("d-1"), deal_row("d-2", amount="5.50")])

    assert response.status_code == 200
    body = response.json()
    deals = {deal.external_id: deal for deal in Deal.objects.all()}
    assert body == {
        "mode": "atomic",
        "written": True,
        "rows_total": 2,
        "counts": {"created": 2, "updated": 0, "unchanged": 0, "error": 0},
        "results": [
            {"index": 0, "status": "created", "id": deals["d-1"].pk, "external_id": "d-1",
             "errors": []},
            {"index": 1, "status": "created", "id": deals["d-2"].pk, "external_id": "d-2",
             "errors": []},
        ],
        "results_truncated": False,
    }  # fmt: skip
    assert deals["d-2"].amount == Decimal("5.50")
    assert deals["d-1"].account_id == acme.pk
    assert deals["d-1"].tenant_id == acme.tenant_id


@pytest.mark.parametrize(
    ("row", "field", "value"), INVALID_ROWS, ids=[row[0]["external_id"] for row in INVALID_ROWS]
)
def test_atomic_invalid_row_writes_nothing(client, headers, acme, row, field, value):
    response = post(client, headers, [deal_row("good-1"), row, deal_row("good-2")])

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["written"] is False
    assert body["counts"] == {"created": 0, "updated": 0, "unchanged": 0, "error": 1}
    assert len(body["results"]) == 1
    result = body["results"][0]
    assert result["index"] == 1
    assert result["status"] == "error"
    assert result["id"] is None
    assert result["external_id"] == row["external_id"]
    assert [error["field"] for error in result["errors"]] == [field]
    assert result["errors"][0]["value"] == value
    assert result["errors"][0]["message"]
    assert result["errors"][0]["fix"]
    assert Deal.objects.count() == 0


def test_atomic_reports_every_invalid_row(client, headers, acme):
    rows = [row for row, _, _ in INVALID_ROWS]

    body = post(client, headers, rows).json()

    assert [result["index"] for result in body["results"]] == list(range(len(rows)))
    assert body["counts"]["error"] == len(rows)


def test_atomic_caps_reported_errors(client, headers, acme):
    count = bulk.MAX_REPORTED_ERROR_ROWS + 5
    rows = [deal_row(f"d-{index}", stage="maybe") for index in range(count)]

    body = post(client, headers, rows).json()

    assert body["results_truncated"] is True
    assert len(body["results"]) == bulk.MAX_REPORTED_ERROR_ROWS
    assert body["counts"]["error"] == count
    assert str(count) in body["message"]


# Partial mode


def test_partial_writes_valid_rows(client, headers, acme):
    rows = [deal_row("good-1"), *(row for row, _, _ in INVALID_ROWS), deal_row("good-2")]

    response = post(client, headers, rows, mode="partial")

    assert response.status_code == 200
    body = response.json()
    statuses = [result["status"] for result in body["results"]]
    assert statuses == ["created", *["error"] * len(INVALID_ROWS), "created"]
    assert body["counts"] == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "error": len(INVALID_ROWS),
    }
    assert sorted(Deal.objects.values_list("external_id", flat=True)) == ["good-1", "good-2"]
    for result, (_, field, _) in zip(body["results"][1:-1], INVALID_ROWS, strict=True):
        assert result["errors"][0]["field"] == field


def test_partial_reports_updated_and_unchanged(client, headers, acme):
    post(client, headers, [deal_row("d-1"), deal_row("d-2")])
    rows = [deal_row("d-1"), deal_row("d-2", amount="2000.00"), deal_row("d-3")]

    body = post(client, headers, rows, mode="partial").json()

    assert [result["status"] for result in body["results"]] == ["unchanged", "updated", "created"]
    assert Deal.objects.get(external_id="d-2").amount == Decimal("2000.00")


def test_unchanged_rows_are_not_rewritten(client, headers, acme):
    post(client, headers, [deal_row("d-1")])
    before = Deal.objects.get().updated_at

    post(client, headers, [deal_row("d-1")])

    assert Deal.objects.get().updated_at == before


def test_duplicate_external_id_rejects_later_rows(client, headers, acme):
    rows = [deal_row("d-1"), deal_row("d-2"), deal_row("d-1", amount="9.00")]

    body = post(client, headers, rows, mode="partial").json()

    assert [result["status"] for result in body["results"]] == ["created", "created", "error"]
    error = body["results"][2]["errors"][0]
    assert error["field"] == "external_id"
    assert error["value"] == "d-1"
    assert "row 0" in error["message"]
    assert Deal.objects.get(external_id="d-1").amount == Decimal("1000.00")


def test_row_that_is_no_object(client, headers, acme):
    body = post(client, headers, [deal_row("d-1"), "d-2"], mode="partial").json()

    assert body["results"][1]["status"] == "error"
    assert body["results"][1]["errors"][0]["field"] == ""
    assert body["results"][1]["errors"][0]["value"] == "d-2"


def test_booked_deal_change_is_row_error(client, headers, acme):
    DealFactory(tenant=acme.tenant, external_id="d-booked", account=acme, stage="won",
                amount=Decimal("1000.00"), currency="USD", close_date=datetime.date(2024, 5, 31),
                pipeline_status=Deal.PipelineStatus.PROCESSED)  # fmt: skip
    row = deal_row("d-booked", stage="won", amount="1.00")

    body = post(client, headers, [row], mode="partial").json()

    error = body["results"][0]["errors"][0]
    assert error["field"] == "amount"
    assert "booked" in error["message"]
    assert "/api/v1/ledger/" in error["fix"]
    assert Deal.objects.get().amount == Decimal("1000.00")


def test_other_tenants_account_is_unknown(client, headers, acme, other_tenant):
    AccountFactory(tenant=other_tenant, external_id="acc-globex", domain="globex.com")
    rows = [
        deal_row("d-1", account_external_id="acc-globex"),
        deal_row("d-2", account_external_id="", account_domain="globex.com"),
    ]

    body = post(client, headers, rows, mode="partial").json()

    assert [result["status"] for result in body["results"]] == ["error", "error"]
    assert body["results"][0]["errors"][0]["field"] == "account_external_id"
    assert body["results"][1]["errors"][0]["field"] == "account_domain"
    assert Deal.all_tenants.count() == 0


def test_unknown_partner_is_row_error(client, headers, acme):
    PartnerFactory(tenant=acme.tenant, external_id="p-known")
    rows = [
        deal_row("d-1", partner_external_id="p-known"),
        deal_row("d-2", partner_external_id="p-unknown"),
    ]

    body = post(client, headers, rows, mode="partial").json()

    assert [result["status"] for result in body["results"]] == ["created", "error"]
    assert body["results"][1]["errors"][0]["field"] == "partner_external_id"
    assert Deal.objects.get().partner_named is True


# Pipeline


def test_won_deals_enter_pipeline_once(client, headers, acme, django_capture_on_commit_callbacks):
    PartnerFactory(tenant=acme.tenant, external_id="p-north")
    rows = [
        deal_row(f"won-{i}", stage="won", close_date="2024-03-01", partner_external_id="p-north")
        for i in range(3)
    ]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(client, headers, rows)

    assert response.status_code == 200
    assert len(callbacks) == 1
    assert set(Deal.objects.values_list("pipeline_status", flat=True)) == {"pending"}


def test_won_deals_book_commission(client, headers, acme, django_capture_on_commit_callbacks):
    from tests.factories import CommissionPlanFactory

    PartnerFactory(tenant=acme.tenant, external_id="p-north")
    CommissionPlanFactory(tenant=acme.tenant)
    rows = [deal_row("won-1", stage="won", close_date="2024-03-01", partner_external_id="p-north")]

    with django_capture_on_commit_callbacks(execute=True):
        post(client, headers, rows)
    with django_capture_on_commit_callbacks(execute=True):
        second = post(client, headers, rows)

    assert second.json()["results"][0]["status"] == "unchanged"
    assert Deal.objects.get().pipeline_status == Deal.PipelineStatus.PROCESSED
    assert LedgerEntry.objects.count() == 1


# Set-based writes


def test_query_count_does_not_grow_with_rows(client, headers, acme):
    def queries_for(count: int, prefix: str) -> int:
        rows = [deal_row(f"{prefix}-{index}") for index in range(count)]
        with CaptureQueriesContext(connection) as queries:
            response = post(client, headers, rows)
        assert response.status_code == 200
        return len(queries)

    # The first request also updates the API key's last_used_at.
    queries_for(1, "warm-up")
    assert queries_for(200, "big") == queries_for(5, "small")


# Envelope and access


def test_too_many_rows(client, headers, acme):
    rows = [deal_row("d")] * (bulk.MAX_BULK_ROWS + 1)

    response = post(client, headers, rows)

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "rows"
    assert "10000" in error["message"]
    assert Deal.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rows": [deal_row("d-1")]}, "mode"),
        ({"mode": "sometimes", "rows": [deal_row("d-1")]}, "mode"),
        ({"mode": "atomic", "rows": []}, "rows"),
        ({"mode": "atomic", "rows": {"external_id": "d-1"}}, "rows"),
    ],
    ids=["mode-missing", "mode-unknown", "rows-empty", "rows-not-list"],
)
def test_invalid_envelope(client, headers, acme, body, field):
    response = client.post(URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_requires_credentials(client, acme):
    response = post(client, {}, [deal_row("d-1")])

    assert response.status_code == 401
    assert Deal.objects.count() == 0


def test_analyst_may_not_write(analyst_client, acme):
    response = post(analyst_client, {}, [deal_row("d-1")])

    assert response.status_code == 403
    assert Deal.objects.count() == 0
