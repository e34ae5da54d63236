"""CSV import of refund and churn events through the API and the imports page."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from commissions.models import LedgerEntry, RevenueEvent
from commissions.services import accruals_write
from crm.models import ImportRun
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, CommissionPlanFactory, DealFactory, PartnerFactory

URL = "/api/v1/imports/revenue_events/"
HEADER = b"external_id,kind,occurred_on,deal_external_id,account_external_id,amount,currency\n"
# A quarter refund of opp-9 (100.00 accrued) and a churn of acme-co 45 days into
# the 90-day window: 25.00, then half of the 75.00 left.
GOOD_CSV = HEADER + (
    b"rf-1,refund,2026-02-01,opp-9,,250.00,USD\nch-1,Churn,2026-02-15,,acme-co,,\n"
)


def csv_file(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("events.csv", content, content_type="text/csv")


@pytest.fixture
def accrual(scoped) -> LedgerEntry:
    plan = CommissionPlanFactory(tenant=scoped, base_rate=Decimal("0.1000"))
    deal = DealFactory(
        tenant=scoped,
        external_id="opp-9",
        partner=PartnerFactory(tenant=scoped),
        account=AccountFactory(tenant=scoped, external_id="acme-co"),
        amount=Decimal("1000.00"),
        close_date=datetime.date(2026, 1, 1),
    )
    row = {
        "id": deal.pk, "partner_id": deal.partner_id, "amount": deal.amount,
        "currency": "USD", "won_fit_tier": "B", "won_fit_score": 60, "won_fit_version_id": None,
    }  # fmt: skip
    accruals_write(plan=plan, deals=[row])
    return LedgerEntry.objects.get(deal=deal)  # 100.00


def upload(client, headers, content, capture, **data):
    with capture(execute=True):
        return client.post(URL, {"file": csv_file(content), **data}, headers=headers)


def reversal_amounts(accrual):
    return list(
        LedgerEntry.objects.filter(reverses=accrual).order_by("pk").values_list("amount", flat=True)
    )


def test_import_records_events_and_reverses(
    client, headers, accrual, django_capture_on_commit_callbacks
):
    response = upload(client, headers, GOOD_CSV, django_capture_on_commit_callbacks)

    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "revenue_events"
    assert body["status"] == "succeeded"
    assert (body["rows_created"], body["rows_updated"]) == (2, 0)
    events = RevenueEvent.objects.order_by("external_id")
    assert [(e.external_id, e.kind) for e in events] == [("ch-1", "churn"), ("rf-1", "refund")]
    assert all(event.processed_at is not None for event in events)
    assert reversal_amounts(accrual) == [Decimal("-25.00"), Decimal("-37.50")]


def test_reimport_writes_nothing_more(client, headers, accrual, django_capture_on_commit_callbacks):
    upload(client, headers, GOOD_CSV, django_capture_on_commit_callbacks)
    before = reversal_amounts(accrual)

    response = upload(client, headers, GOOD_CSV, django_capture_on_commit_callbacks)

    assert response.status_code == 201
    assert (response.json()["rows_created"], response.json()["rows_updated"]) == (0, 2)
    assert RevenueEvent.objects.count() == 2
    assert reversal_amounts(accrual) == before
    assert len(before) == 2


def test_reversals_wait_for_commit(client, headers, accrual, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(URL, {"file": csv_file(GOOD_CSV)}, headers=headers)

    assert RevenueEvent.objects.count() == 2
    assert reversal_amounts(accrual) == []
    assert len(callbacks) >= 2


def test_import_errors_match_api(client, headers, accrual, django_capture_on_commit_callbacks):
    content = HEADER + (
        b"rf-1,refund,2026-02-01,opp-9,,250.00,USD\n"
        b"rf-2,refund,2026-02-01,nope,,10.00,\n"
        b"rf-3,refund,2026-02-01,opp-9,,10.00,EUR\n"
        b"ch-1,churn,2026-02-01,,acme-co,5.00,\n"
        b"rf-4,refund,2026-02-01,opp-9,,800.00,\n"
        b"rf-1,refund,2026-02-01,opp-9,,250.00,\n"
        b"xx-1,return,2026-02-01,opp-9,,1.00,\n"
    )

    response = upload(client, headers, content, django_capture_on_commit_callbacks)

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "failed"
    assert (body["rows_total"], body["rows_rejected"]) == (7, 6)
    errors = {error["line"]: error for error in body["errors"]}
    assert errors[3]["column"] == "deal_external_id"
    assert errors[3]["value"] == "nope"
    assert errors[4]["column"] == "currency"
    assert errors[5]["column"] == "amount"
    assert errors[6]["column"] == "amount"
    assert errors[6]["message"].startswith("Refunds of deal 'opp-9' would total 1050.00")
    assert errors[7]["message"] == "Duplicate of line 2: each external_id may appear once."
    assert errors[8]["column"] == "kind"
    assert errors[8]["message"] == "Expected one of refund, churn."
    assert RevenueEvent.objects.count() == 0
    # Each message is the API's message followed by its fix.
    api = client.post(
        "/api/v1/revenue-events/",
        {"external_id": "rf-2", "kind": "refund", "occurred_on": "2026-02-01",
         "deal_external_id": "nope", "amount": "10.00"},
        content_type="application/json",
        headers=headers,
    ).json()  # fmt: skip
    assert errors[3]["message"] == f"{api['message']} {api['fix']}"


def test_partial_import_writes_valid_lines(
    client, headers, accrual, django_capture_on_commit_callbacks
):
    content = GOOD_CSV + b"rf-2,refund,2026-02-01,nope,,10.00,\n"

    response = upload(client, headers, content, django_capture_on_commit_callbacks, strict="false")

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "partial"
    assert (body["rows_created"], body["rows_rejected"]) == (2, 1)
    assert [error["line"] for error in body["errors"]] == [4]
    assert sorted(RevenueEvent.objects.values_list("external_id", flat=True)) == ["ch-1", "rf-1"]


def test_changed_processed_event_rejected(
    client, headers, accrual, django_capture_on_commit_callbacks
):
    upload(client, headers, GOOD_CSV, django_capture_on_commit_callbacks)
    changed = GOOD_CSV.replace(b"250.00", b"300.00")

    response = upload(client, headers, changed, django_capture_on_commit_callbacks)

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["line"], error["column"], error["value"]) == (2, "amount", "300.00")
    assert error["message"].startswith("Event 'rf-1' is already processed with amount 250.00.")
    assert RevenueEvent.objects.get(external_id="rf-1").amount == Decimal("250.00")


def test_replaced_refund_not_counted_twice(
    client, headers, accrual, django_capture_on_commit_callbacks
):
    # An unprocessed stored refund of 900.00 is replaced by 950.00 from the file.
    with django_capture_on_commit_callbacks(execute=False):
        client.post(URL, {"file": csv_file(HEADER + b"rf-1,refund,2026-02-01,opp-9,,900.00,\n")},
                    headers=headers)  # fmt: skip

    response = upload(
        client,
        headers,
        HEADER + b"rf-1,refund,2026-02-01,opp-9,,950.00,\n",
        django_capture_on_commit_callbacks,
    )

    assert response.status_code == 201
    assert RevenueEvent.objects.get().amount == Decimal("950.00")


def test_other_tenant_deal_not_found(client, headers, other_tenant, scoped):
    with tenant_scope(other_tenant):
        DealFactory(
            tenant=other_tenant,
            external_id="theirs",
            account=AccountFactory(tenant=other_tenant),
            amount=Decimal("100.00"),
        )

    response = client.post(
        URL,
        {"file": csv_file(HEADER + b"rf-1,refund,2026-02-01,theirs,,10.00,\n")},
        headers=headers,
    )

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["message"].startswith("No deal has external_id 'theirs'.")
    with tenant_scope(other_tenant):
        assert RevenueEvent.objects.count() == 0


def test_imports_page_accepts_revenue_events(
    client, admin_user, accrual, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    page = client.get(reverse("crm:import_list"))
    assert b'value="revenue_events"' in page.content

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("crm:import_upload"),
            {"kind": "revenue_events", "file": csv_file(GOOD_CSV), "strict": "on"},
            follow=True,
        )

    assert response.status_code == 200
    run = ImportRun.objects.get()
    assert (run.kind, run.status, run.rows_created) == ("revenue_events", "succeeded", 2)
    assert run.created_by == admin_user
    assert len(reversal_amounts(accrual)) == 2
