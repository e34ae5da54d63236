"""The payouts API and manual entry approval over HTTP."""

from __future__ import annotations

import pytest
from django.test import Client

from commissions.models import LedgerEntry, Payout
from tests.commissions.test_payouts import THIS_MONTH, entry
from tests.factories import MembershipFactory, PartnerFactory, UserFactory

S = LedgerEntry.Status


@pytest.fixture
def second_client(tenant):
    user = UserFactory(username="manager-acme")
    MembershipFactory(tenant=tenant, user=user, role="partner_manager")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def partner(scoped):
    return PartnerFactory(tenant=scoped, name="Northwind", external_id="nw-1")


def test_prepare_approve_pay_and_export(staff_client, second_client, partner):
    first = entry(partner, "80.00")
    entry(partner, "-5.50")

    prepared = staff_client.post(
        "/api/v1/payouts/prepare/", {"period": THIS_MONTH.label}, content_type="application/json"
    )
    assert prepared.status_code == 200, prepared.content
    [payout] = prepared.json()
    assert payout["total"] == "74.50"
    assert payout["status"] == "prepared"
    again = staff_client.post(
        "/api/v1/payouts/prepare/", {"period": THIS_MONTH.label}, content_type="application/json"
    )
    assert again.json() == []

    same = staff_client.post(f"/api/v1/payouts/{payout['id']}/approve/")
    assert same.status_code == 409
    assert same.json()["field"] == "approved_by"
    assert "someone else" in same.json()["message"]

    approved = second_client.post(f"/api/v1/payouts/{payout['id']}/approve/")
    assert approved.status_code == 200
    assert approved.json()["approved_by"] == "manager-acme"

    export = staff_client.get(f"/api/v1/payouts/export.csv?period={THIS_MONTH.label}")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    assert export.content.decode().splitlines()[1] == f"nw-1,Northwind,USD,74.50,2,{payout['id']}"

    paid = staff_client.post(f"/api/v1/payouts/{payout['id']}/mark-paid/")
    assert paid.status_code == 200
    assert paid.json()["status"] == "paid"
    assert {e["status"] for e in paid.json()["entries"]} == {"paid"}
    first.refresh_from_db()
    assert first.status == S.PAID

    listed = staff_client.get(f"/api/v1/payouts/?period={THIS_MONTH.label}&status=paid")
    assert [row["id"] for row in listed.json()["results"]] == [payout["id"]]


def test_prepare_rejects_bad_period(staff_client, scoped):
    response = staff_client.post(
        "/api/v1/payouts/prepare/", {"period": "2026-13"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["field"] == "period"


def test_export_needs_period(staff_client, scoped):
    response = staff_client.get("/api/v1/payouts/export.csv")

    assert response.status_code == 400


def test_mark_paid_before_approval_is_conflict(staff_client, partner):
    entry(partner, "80.00")
    [payout] = staff_client.post(
        "/api/v1/payouts/prepare/", {"period": THIS_MONTH.label}, content_type="application/json"
    ).json()

    response = staff_client.post(f"/api/v1/payouts/{payout['id']}/mark-paid/")

    assert response.status_code == 409
    assert Payout.objects.get().status == Payout.Status.PREPARED


def test_api_key_cannot_approve(client, headers, admin_user, partner):
    entry(partner, "80.00")
    [payout] = client.post(
        "/api/v1/payouts/prepare/",
        {"period": THIS_MONTH.label},
        content_type="application/json",
        headers=headers,
    ).json()

    response = client.post(f"/api/v1/payouts/{payout['id']}/approve/", headers=headers)

    assert response.status_code == 409


def test_entry_approve_and_void(staff_client, partner):
    pending = entry(partner, "10.00", status=S.PENDING)
    held = entry(partner, "10.00", status=S.HELD)

    approved = staff_client.post(f"/api/v1/ledger/{pending.pk}/approve/")
    refused = staff_client.post(f"/api/v1/ledger/{held.pk}/approve/")
    voided = staff_client.post(f"/api/v1/ledger/{pending.pk}/void/")

    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert refused.status_code == 409
    assert "held for fraud review" in refused.json()["message"]
    assert voided.json()["status"] == "void"
    held.refresh_from_db()
    assert held.status == S.HELD


def test_analyst_cannot_prepare(analyst_client, scoped):
    response = analyst_client.post(
        "/api/v1/payouts/prepare/", {"period": THIS_MONTH.label}, content_type="application/json"
    )

    assert response.status_code == 403
