"""POST /api/v1/partners/{id}/status/ and the owner, tier and notes fields."""

from __future__ import annotations

from partners.models import Partner
from tenancy.models import AuditEvent
from tests.factories import PartnerFactory

PARTNERS_URL = "/api/v1/partners/"


def status_url(partner) -> str:
    return f"/api/v1/partners/{partner.pk}/status/"


def post(client, url, body, headers):
    return client.post(url, body, content_type="application/json", headers=headers)


def test_status_change_returns_partner(client, headers, scoped):
    partner = PartnerFactory(tenant=scoped, status="active")

    response = post(client, status_url(partner), {"status": "paused", "reason": "Q3"}, headers)

    assert response.status_code == 200
    assert response.json()["id"] == partner.pk
    assert response.json()["status"] == "paused"
    event = AuditEvent.objects.get(event="partner.status_changed")
    assert event.after == {"status": "paused", "reason": "Q3"}
    assert event.actor_label.startswith("api-key")


def test_status_repeat_is_200(client, headers, scoped):
    partner = PartnerFactory(tenant=scoped, status="active")

    first = post(client, status_url(partner), {"status": "paused"}, headers)
    second = post(client, status_url(partner), {"status": "paused"}, headers)

    assert first.status_code == 200
    assert second.status_code == 200
    assert AuditEvent.objects.filter(event="partner.status_changed").count() == 1


def test_disallowed_status_is_409(client, headers, scoped):
    partner = PartnerFactory(tenant=scoped, status="terminated")

    response = post(client, status_url(partner), {"status": "active"}, headers)

    assert response.status_code == 409
    assert "terminated" in str(response.json())
    partner.refresh_from_db()
    assert partner.status == "terminated"


def test_unknown_status_is_400(client, headers, scoped):
    partner = PartnerFactory(tenant=scoped, status="active")

    response = post(client, status_url(partner), {"status": "gone"}, headers)

    assert response.status_code == 400


def test_other_tenant_status_is_404(client, other_headers, scoped):
    partner = PartnerFactory(tenant=scoped, status="active")

    response = post(client, status_url(partner), {"status": "paused"}, other_headers)

    assert response.status_code == 404
    partner.refresh_from_db()
    assert partner.status == "active"


def test_analyst_status_change_403(analyst_client, scoped):
    partner = PartnerFactory(tenant=scoped, status="active")

    response = analyst_client.post(
        status_url(partner), {"status": "paused"}, content_type="application/json"
    )

    assert response.status_code == 403
    partner.refresh_from_db()
    assert partner.status == "active"


def test_upsert_writes_owner_tier_notes(client, headers, scoped, admin_user):
    body = {"external_id": "p-1", "name": "North", "owner": admin_user.pk,
            "tier": "gold", "notes": "Top reseller."}  # fmt: skip

    response = post(client, PARTNERS_URL, body, headers)

    assert response.status_code == 201
    data = response.json()
    assert (data["owner"], data["tier"], data["notes"]) == (admin_user.pk, "gold", "Top reseller.")
    partner = Partner.objects.get()
    assert partner.owner == admin_user


def test_upsert_rejects_other_tenant_owner(client, headers, scoped, other_admin_user):
    body = {"external_id": "p-1", "name": "North", "owner": other_admin_user.pk}

    response = post(client, PARTNERS_URL, body, headers)

    assert response.status_code == 400
    assert "owner" in str(response.json())
    assert not Partner.objects.exists()


def test_upsert_status_follows_lifecycle(client, headers, scoped):
    PartnerFactory(tenant=scoped, external_id="p-1", status="terminated")

    response = post(client, PARTNERS_URL, {"external_id": "p-1", "name": "P", "status": "active"},
                    headers)  # fmt: skip

    assert response.status_code == 409
    assert Partner.objects.get().status == "terminated"
