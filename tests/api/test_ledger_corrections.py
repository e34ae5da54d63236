"""Manual adjustments and bonuses added through the ledger API."""

from decimal import Decimal

import pytest

from commissions.models import LedgerEntry
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory, PartnerFactory

URL = "/api/v1/ledger/"


@pytest.fixture
def partner(scoped):
    return PartnerFactory(tenant=scoped, name="North")


def body(partner, **values):
    return {
        "kind": "adjustment",
        "partner_id": partner.pk,
        "amount": "-25.50",
        "memo": "Ticket 4411: deal booked twice in the CRM",
        "idempotency_key": "ticket-4411",
        **values,
    }


def post(client, headers, data):
    return client.post(URL, data, content_type="application/json", headers=headers)


def test_adjustment_is_added_pending_and_audited(client, headers, partner):
    response = post(client, headers, body(partner))

    assert response.status_code == 201
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.status, entry.amount) == ("adjustment", "pending", Decimal("-25.5"))
    assert (entry.currency, entry.idempotency_key) == ("USD", "manual:ticket-4411")
    assert response.json()["memo"] == "Ticket 4411: deal booked twice in the CRM"
    assert AuditEvent.objects.filter(event="ledger.adjustment_added").count() == 1


def test_retry_returns_the_entry_and_other_values_conflict(client, headers, partner):
    first = post(client, headers, body(partner))
    again = post(client, headers, body(partner))
    changed = post(client, headers, body(partner, amount="-30.00"))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert changed.status_code == 409
    assert changed.json()["field"] == "amount"
    assert LedgerEntry.objects.count() == 1


def test_bonus_on_partners_deal(client, headers, scoped, partner):
    DealFactory(
        tenant=scoped, external_id="D1", partner=partner, account=AccountFactory(tenant=scoped)
    )

    response = post(
        client,
        headers,
        body(partner, kind="bonus", amount="500.00", deal_external_id="D1", idempotency_key="q4"),
    )

    assert response.status_code == 201
    assert response.json()["deal_external_id"] == "D1"
    assert response.json()["kind"] == "bonus"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"kind": "accrual"}, 400, "kind"),
        ({"kind": "bonus", "amount": "-5.00"}, 400, "amount"),
        ({"amount": "0"}, 400, "amount"),
        ({"amount": "1.005"}, 400, "amount"),
        ({"currency": "JPY", "amount": "10.50"}, 400, "amount"),
        ({"currency": "ZZZ"}, 400, "currency"),
        ({"memo": "   "}, 400, "memo"),
        ({"idempotency_key": "   "}, 400, "idempotency_key"),
        ({"partner_id": 999999}, 404, "partner_id"),
        ({"deal_external_id": "nope"}, 404, "deal_external_id"),
    ],
)
def test_invalid_entry_names_the_field_and_adds_nothing(
    client, headers, partner, change, status, field
):
    response = post(client, headers, body(partner, **change))

    assert response.status_code == status
    payload = response.json()
    assert payload.get("field") == field or field in str(payload.get("errors", payload))
    assert not LedgerEntry.objects.exists()


def test_other_tenants_partner_is_404(client, headers, other_tenant):
    with tenant_scope(other_tenant):
        foreign = PartnerFactory(tenant=other_tenant, name="Globex partner")

    response = post(client, headers, body(foreign))

    assert response.status_code == 404
    assert "Globex" not in response.content.decode()


def test_analyst_cannot_add(analyst_client, partner):
    response = analyst_client.post(URL, body(partner), content_type="application/json")

    assert response.status_code == 403
