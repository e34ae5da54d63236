"""The plan simulation endpoint and page."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tenancy.scope import tenant_scope
from tests.commissions.simulation_data import draft, won
from tests.factories import CommissionPlanFactory, PartnerFactory


@pytest.fixture
def active(scoped):
    return CommissionPlanFactory(tenant=scoped, name="Active", base_rate=Decimal("0.1000"))


def simulate_url(plan) -> str:
    return f"/api/v1/commission-plans/{plan.pk}/simulate/"


def test_api_simulates_draft(client, headers, scoped, active):
    partner = PartnerFactory(tenant=scoped)
    won(partner, book=active)
    plan = draft(scoped, multiplier_a=Decimal("2.00"))

    response = client.post(
        simulate_url(plan), {"months": 6}, content_type="application/json", headers=headers
    )

    assert response.status_code == 200
    body = response.json()
    assert body["months"] == 6
    assert body["plan"]["id"] == plan.pk
    assert body["compare_to"]["id"] == active.pk
    assert body["totals"]["simulated"] == "200.00"
    assert body["totals"]["active"] == "150.00"
    assert body["partners"][0]["partner_id"] == partner.pk


def test_api_months_default_and_range(client, headers, scoped, active):
    plan = draft(scoped)

    default = client.post(simulate_url(plan), {}, content_type="application/json", headers=headers)
    too_many = client.post(
        simulate_url(plan), {"months": 61}, content_type="application/json", headers=headers
    )

    assert default.status_code == 200
    assert default.json()["months"] == 12
    assert too_many.status_code == 400
    assert "months" in too_many.content.decode()


def test_api_analyst_may_simulate(analyst_client, tenant):
    with tenant_scope(tenant):
        plan = draft(tenant)

    response = analyst_client.post(
        simulate_url(plan), {"months": 12}, content_type="application/json"
    )

    assert response.status_code == 200


def test_api_other_tenants_plan_is_404(client, headers, other_tenant):
    with tenant_scope(other_tenant):
        other = draft(other_tenant, name="Globex plan")

    response = client.post(
        simulate_url(other), {}, content_type="application/json", headers=headers
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_page_shows_report(staff_client, scoped, active, django_capture_on_commit_callbacks):
    partner = PartnerFactory(tenant=scoped, name="Initech Partners")
    won(partner, book=active)
    plan = draft(scoped, multiplier_a=Decimal("2.00"))

    with django_capture_on_commit_callbacks(execute=True):
        started = staff_client.post(f"/ledger/plans/{plan.pk}/simulate/", {"months": "6"})
    response = staff_client.get(started["Location"])

    assert response.status_code == 200
    page = response.content.decode()
    assert "Initech Partners" in page
    assert "200.00" in page


def test_page_rejects_bad_months(staff_client, scoped):
    plan = draft(scoped)

    response = staff_client.post(f"/ledger/plans/{plan.pk}/simulate/", {"months": "99"})

    assert response.status_code == 400
    assert "months" in response.content.decode()
