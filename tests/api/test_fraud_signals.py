"""The fraud signal API: list and filters, detail, dismiss and confirm."""

from __future__ import annotations

import datetime

import pytest

from attribution.models import FraudSignal, Referral
from commissions.models import LedgerEntry
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tests.api.conftest import count_queries
from tests.attribution.fraud.conftest import entry_create
from tests.factories import (
    AccountFactory,
    DealFactory,
    FraudSignalFactory,
    PartnerFactory,
    ReferralFactory,
)

LIST_URL = "/api/v1/fraud-signals/"


def detail_url(signal) -> str:
    return f"{LIST_URL}{signal.pk}/"


@pytest.fixture
def signals(scoped):
    """An open self-referral with a held entry, an open click flood, and a dismissed one."""
    north = PartnerFactory(name="North Partners")
    south = PartnerFactory(name="South Agency")

    account = AccountFactory(domain="north.com")
    referral = ReferralFactory(partner=north, domain="north.com", company_name="North")
    deal = DealFactory(account=account, partner=north, partner_named=True)
    entry = entry_create(north, deal, status=LedgerEntry.Status.HELD, amount="150.00")

    self_referral = FraudSignalFactory(
        partner=north,
        kind=FraudSignal.Kind.SELF_REFERRAL,
        referral=referral,
        summary="Self-referral of north.com.",
        details={"domain": "north.com"},
    )
    flood = FraudSignalFactory(partner=south, kind=FraudSignal.Kind.CLICK_FLOOD)
    dismissed = FraudSignalFactory(
        partner=south, kind=FraudSignal.Kind.CLICK_FLOOD, status=FraudSignal.Status.DISMISSED
    )

    # The dismissed signal is the newest, but open signals come first.
    FraudSignal.objects.filter(pk=self_referral.pk).update(
        created_at=datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
    )
    return {
        "north": north,
        "south": south,
        "entry": entry,
        "referral": referral,
        "self_referral": self_referral,
        "flood": flood,
        "dismissed": dismissed,
    }


def test_list_puts_open_signals_first(client, headers, signals):
    response = client.get(LIST_URL, headers=headers)

    assert response.status_code == 200
    ids = [row["id"] for row in response.json()["results"]]
    assert ids == [signals["flood"].pk, signals["self_referral"].pk, signals["dismissed"].pk]


def test_list_row_fields(client, headers, signals):
    response = client.get(LIST_URL, {"kind": "self_referral"}, headers=headers)

    row = response.json()["results"][0]
    assert row.pop("created_at")
    assert row == {
        "id": signals["self_referral"].pk,
        "partner": {"id": signals["north"].pk, "name": "North Partners"},
        "kind": "self_referral",
        "status": "open",
        "referral": {
            "id": signals["referral"].pk,
            "domain": "north.com",
            "company_name": "North",
            "status": "approved",
        },
        "summary": "Self-referral of north.com.",
        "details": {"domain": "north.com"},
        "held": [{"currency": "USD", "amount": "150.0000", "entries": 1}],
        "reviewed_by": None,
        "reviewed_at": None,
        "review_note": "",
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "dismissed"}, ["dismissed"]),
        ({"kind": "click_flood", "status": "open"}, ["flood"]),
        ({"partner": "north"}, ["self_referral"]),
    ],
)
def test_list_filters(client, headers, signals, params, expected):
    params = {
        key: signals[value].pk if key == "partner" else value for key, value in params.items()
    }

    response = client.get(LIST_URL, params, headers=headers)

    assert [row["id"] for row in response.json()["results"]] == [
        signals[name].pk for name in expected
    ]


def test_list_rejects_unknown_kind(client, headers, signals):
    response = client.get(LIST_URL, {"kind": "spam"}, headers=headers)

    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["field"] == "kind"
    assert body["errors"][0]["value"] == "spam"


def test_list_query_count_is_fixed(client, headers, signals):
    before = count_queries(client, LIST_URL, headers)
    with tenant_scope(signals["north"].tenant):
        for index in range(5):
            partner = PartnerFactory()
            referral = ReferralFactory(partner=partner, domain=f"more{index}.com")
            FraudSignalFactory(
                partner=partner, kind=FraudSignal.Kind.DUPLICATE_REGISTRATION, referral=referral
            )
            FraudSignalFactory(partner=partner)

    assert count_queries(client, LIST_URL, headers) == before


def test_detail_returns_signal(client, headers, signals):
    response = client.get(detail_url(signals["flood"]), headers=headers)

    assert response.status_code == 200
    assert response.json()["partner"]["name"] == "South Agency"
    assert response.json()["referral"] is None


def test_detail_of_missing_signal_is_404(client, headers, signals):
    response = client.get(f"{LIST_URL}999999/", headers=headers)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_dismiss_releases_entries(client, headers, signals):
    response = client.post(
        f"{detail_url(signals['self_referral'])}dismiss/",
        {"note": "Their parent company."},
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "dismissed"
    assert body["review_note"] == "Their parent company."
    assert body["held"] == []
    assert LedgerEntry.objects.get(pk=signals["entry"].pk).status == LedgerEntry.Status.PENDING
    event = AuditEvent.objects.get(event="fraud_signal.dismissed")
    assert event.actor_label.startswith("api-key:")


def test_dismiss_without_body_is_allowed(client, headers, signals):
    response = client.post(f"{detail_url(signals['flood'])}dismiss/", headers=headers)

    assert response.status_code == 200
    assert response.json()["status"] == "dismissed"


def test_dismiss_twice_is_200(client, headers, signals):
    url = f"{detail_url(signals['dismissed'])}dismiss/"

    response = client.post(url, headers=headers)

    assert response.status_code == 200
    assert AuditEvent.objects.filter(event="fraud_signal.dismissed").count() == 0


def test_confirm_voids_and_rejects(client, headers, signals):
    response = client.post(
        f"{detail_url(signals['self_referral'])}confirm/",
        {"note": "Registered their own company."},
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"
    assert response.json()["referral"]["status"] == "rejected"
    assert LedgerEntry.objects.get(pk=signals["entry"].pk).status == LedgerEntry.Status.VOID
    assert Referral.objects.get(pk=signals["referral"].pk).status == Referral.Status.REJECTED


def test_confirm_needs_note(client, headers, signals):
    response = client.post(
        f"{detail_url(signals['self_referral'])}confirm/",
        {"note": ""},
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "note"
    assert FraudSignal.objects.get(pk=signals["self_referral"].pk).status == "open"


def test_confirm_after_dismiss_is_409(client, headers, signals):
    response = client.post(
        f"{detail_url(signals['dismissed'])}confirm/",
        {"note": "Bots after all."},
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert body["field"] == "status"
    assert body["value"] == "dismissed"


def test_dismiss_after_confirm_is_409(client, headers, signals):
    url = detail_url(signals["flood"])
    client.post(f"{url}confirm/", {"note": "Bots."}, content_type="application/json",
                headers=headers)  # fmt: skip

    response = client.post(f"{url}dismiss/", headers=headers)

    assert response.status_code == 409
    assert response.json()["value"] == "confirmed"


def test_analyst_reads_but_cannot_review(analyst_client, signals):
    assert analyst_client.get(LIST_URL).status_code == 200

    response = analyst_client.post(f"{detail_url(signals['flood'])}dismiss/")

    assert response.status_code == 403
    assert FraudSignal.objects.get(pk=signals["flood"].pk).status == "open"


def test_other_tenants_signals_are_not_listed(client, other_headers, signals):
    response = client.get(LIST_URL, headers=other_headers)

    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_other_tenants_signal_cannot_be_dismissed(client, other_headers, signals):
    response = client.post(f"{detail_url(signals['flood'])}dismiss/", headers=other_headers)

    assert response.status_code == 404
    assert FraudSignal.objects.get(pk=signals["flood"].pk).status == "open"


def test_session_review_records_reviewer(staff_client, signals):
    response = staff_client.post(
        f"{detail_url(signals['flood'])}confirm/",
        {"note": "Bot traffic."},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["reviewed_by"] == "admin-acme"
    assert response.json()["reviewed_at"] is not None
