"""ICP review API: status with drift report, completing a review and drafting from drift."""

from __future__ import annotations

import datetime

from icp.models import IcpVersion
from tenancy.scope import tenant_scope
from tests.icp.drift_data import active_version, drifting_tenant

REVIEW_URL = "/api/v1/icp/review/"
COMPLETE_URL = "/api/v1/icp/review/complete/"
DRAFT_URL = "/api/v1/icp/drift/draft/"


def test_review_without_active_version_is_404(client, headers):
    response = client.get(REVIEW_URL, headers=headers)

    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert body["fix"] == "Activate an ICP version first, then review it."


def test_review_returns_status_and_drift(client, headers, tenant):
    drift = drifting_tenant(tenant)
    with tenant_scope(tenant):
        drift.version.review_due_on = tenant.today() - datetime.timedelta(days=4)
        drift.version.save(update_fields=["review_due_on"])

    body = client.get(REVIEW_URL, headers=headers).json()

    assert body["status"]["state"] == "overdue"
    assert body["status"]["days_left"] == -4
    assert body["status"]["version"]["id"] == drift.version.pk
    assert body["drift"]["wins_since"] == 25
    assert body["drift"]["since"] == "2024-01-01"
    assert {row["label"] for row in body["drift"]["outside"]} >= {"Healthcare", "DE"}
    # Largest shortfall first: employees 25 expected, 10 won; fintech 8.3 expected, 0 won.
    assert [row["label"] for row in body["drift"]["stopped"]] == [
        "Employees 200 or more",
        "Industry: fintech",
    ]
    assert body["drift"]["churn"][-1]["tier"] == "all"


def test_complete_review(client, headers, tenant):
    active_version(tenant, review_due_on=tenant.today())

    response = client.post(
        COMPLETE_URL, {"note": "Looks right."}, content_type="application/json", headers=headers
    )
    repeat = client.post(COMPLETE_URL, {}, content_type="application/json", headers=headers)

    assert response.status_code == 200
    assert response.json()["state"] == "ok"
    assert response.json()["days_left"] == 90
    assert repeat.json() == response.json()


def test_complete_review_without_active_version_is_409(client, headers):
    response = client.post(COMPLETE_URL, {}, content_type="application/json", headers=headers)

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "Activate an ICP version" in response.json()["fix"]


def test_complete_review_rejects_long_note(client, headers, tenant):
    active_version(tenant, review_due_on=tenant.today())

    response = client.post(
        COMPLETE_URL, {"note": "x" * 2001}, content_type="application/json", headers=headers
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "note"


def test_analyst_session_cannot_complete(analyst_client, tenant):
    active_version(tenant, review_due_on=tenant.today())

    response = analyst_client.post(COMPLETE_URL, {}, content_type="application/json")

    assert response.status_code == 403


def test_drift_draft_created_then_repeated(client, headers, tenant):
    drift = drifting_tenant(tenant)

    created = client.post(DRAFT_URL, headers=headers)
    repeated = client.post(DRAFT_URL, headers=headers)

    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "draft"
    assert body["provenance"] == "drift"
    assert repeated.status_code == 200
    assert repeated.json()["id"] == body["id"]
    with tenant_scope(tenant):
        draft = IcpVersion.objects.get(pk=body["id"])
    assert draft.based_on_id == drift.version.pk


def test_drift_draft_with_too_few_wins_is_409(client, headers, tenant):
    active_version(tenant)

    response = client.post(DRAFT_URL, headers=headers)

    assert response.status_code == 409
    assert response.json()["field"] == "wins_since"


def test_review_api_never_shows_other_tenant(client, headers, other_headers, tenant, other_tenant):
    active_version(tenant, name="Acme profile")
    drifting_tenant(other_tenant)

    body = client.get(REVIEW_URL, headers=headers).json()
    draft = client.post(DRAFT_URL, headers=headers)

    assert body["status"]["version"]["name"] == "Acme profile"
    assert body["drift"]["wins_since"] == 0
    assert draft.status_code == 409
    with tenant_scope(other_tenant):
        assert not IcpVersion.objects.filter(provenance="drift").exists()
    other_body = client.get(REVIEW_URL, headers=other_headers).json()
    assert other_body["drift"]["wins_since"] == 25
