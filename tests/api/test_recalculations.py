"""The recalculation endpoints and pages: preview, read, apply, discard and roles."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from commissions.models import CommissionPlan, LedgerEntry, Recalculation
from tenancy.models import AuditEvent, Membership
from tenancy.scope import tenant_scope
from tests.commissions.test_recalculation import book
from tests.factories import (
    CommissionPlanFactory,
    MembershipFactory,
    PartnerFactory,
    UserFactory,
)

URL = "/api/v1/recalculations/"
BODY = {"close_from": "2026-01-01", "close_to": "2026-06-30"}


@pytest.fixture
def booked(scoped):
    """An active plan with two booked accruals, whose rate has since doubled."""
    plan = CommissionPlanFactory(tenant=scoped, name="Active", base_rate=Decimal("0.1000"))
    partner = PartnerFactory(tenant=scoped, name="Initech Partners")
    accruals = [book(plan, partner, amount=amount) for amount in ("1000.00", "500.00")]
    CommissionPlan.objects.filter(pk=plan.pk).update(base_rate=Decimal("0.2000"))
    return plan, accruals


def create(client, plan, headers=None, **body):
    return client.post(
        URL,
        {"plan_id": plan.pk, **BODY, **body},
        content_type="application/json",
        headers=headers or {},
    )


def test_preview_created(client, headers, booked):
    plan, accruals = booked

    response = create(client, plan, headers)

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "previewed"
    assert body["plan"] == {"id": plan.pk, "name": "Active"}
    assert [line["accrual_id"] for line in body["lines"]] == [a.pk for a in accruals]
    assert [line["delta"] for line in body["lines"]] == ["150.00", "75.00"]
    assert body["totals"][0]["delta"] == "225.00"
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.ADJUSTMENT).count() == 0


def test_apply_and_retry(client, headers, booked):
    plan, _ = booked
    recalculation_id = create(client, plan, headers).json()["id"]
    apply_url = f"{URL}{recalculation_id}/apply/"

    first = client.post(apply_url, headers=headers)
    second = client.post(apply_url, headers=headers)

    assert first.status_code == 200
    assert first.json()["status"] == "applied"
    assert second.status_code == 200
    adjustments = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.ADJUSTMENT)
    assert sorted(entry.amount for entry in adjustments) == [Decimal("75.00"), Decimal("150.00")]
    detail = client.get(f"{URL}{recalculation_id}/", headers=headers)
    assert detail.json()["applied_at"] is not None


def test_discard_then_apply_conflicts(client, headers, booked):
    plan, _ = booked
    recalculation_id = create(client, plan, headers).json()["id"]

    discarded = client.post(f"{URL}{recalculation_id}/discard/", headers=headers)
    applied = client.post(f"{URL}{recalculation_id}/apply/", headers=headers)

    assert discarded.json()["status"] == "discarded"
    assert applied.status_code == 409
    assert applied.json()["code"] == "conflict"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        pytest.param({"close_to": "2025-01-01"}, 400, "close_to", id="reversed-range"),
        pytest.param({"close_from": "soon"}, 400, "close_from", id="bad-date"),
        pytest.param({"plan_id": 999_999}, 404, "plan_id", id="unknown-plan"),
    ],
)
def test_invalid_preview_rejected(client, headers, booked, body, status, field):
    plan, _ = booked

    response = create(client, plan, headers, **body)

    assert response.status_code == status
    text = response.content.decode()
    assert field in text
    assert Recalculation.objects.count() == 0


def test_draft_plan_conflicts(client, headers, scoped):
    draft = CommissionPlanFactory(
        tenant=scoped, name="Draft", base_rate=Decimal("0.1"), is_draft=True, is_active=False
    )

    response = create(client, draft, headers)

    assert response.status_code == 409
    assert response.json()["field"] == "plan_id"


def test_other_tenants_plan_is_not_found(client, headers, other_tenant):
    with tenant_scope(other_tenant):
        other = CommissionPlanFactory(tenant=other_tenant, name="Globex")

    response = create(client, other, headers)

    assert response.status_code == 404


def test_analyst_reads_but_cannot_preview_or_apply(analyst_client, tenant):
    with tenant_scope(tenant):
        plan = CommissionPlanFactory(tenant=tenant, name="Active")
        recalculation = Recalculation.objects.create(
            plan=plan,
            close_from=datetime.date(2026, 1, 1),
            close_to=datetime.date(2026, 1, 31),
            fingerprint="0" * 64,
            expires_at=datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC),
        )

    created = create(analyst_client, plan)
    applied = analyst_client.post(f"{URL}{recalculation.pk}/apply/")
    read = analyst_client.get(f"{URL}{recalculation.pk}/")

    assert created.status_code == 403
    assert applied.status_code == 403
    assert read.status_code == 200


# ---------------------------------------------------------------- pages


def test_pages_preview_and_apply(staff_client, booked):
    plan, accruals = booked

    response = staff_client.post(
        "/ledger/recalculations/new/",
        {"plan": plan.pk, "close_from": "2026-01-01", "close_to": "2026-06-30"},
    )
    recalculation = Recalculation.objects.get()
    detail = staff_client.get(f"/ledger/recalculations/{recalculation.pk}/")
    applied = staff_client.post(f"/ledger/recalculations/{recalculation.pk}/apply/")

    assert response.status_code == 302
    assert response.url == f"/ledger/recalculations/{recalculation.pk}/"
    page = detail.content.decode()
    assert "Initech Partners" in page
    assert "Apply 2 adjustments" in page
    assert "csrfmiddlewaretoken" in page
    assert applied.status_code == 302
    recalculation.refresh_from_db()
    assert recalculation.status == Recalculation.Status.APPLIED
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.ADJUSTMENT).count() == 2


def test_page_shows_preview_error(staff_client, booked):
    plan, _ = booked

    response = staff_client.post(
        "/ledger/recalculations/new/",
        {"plan": plan.pk, "close_from": "2026-06-30", "close_to": "2026-01-01"},
    )

    assert response.status_code == 200
    assert "is before close_from" in response.context["form"].errors["close_to"][0]
    assert Recalculation.objects.count() == 0


def test_page_discard_and_analyst_forbidden(staff_client, admin_user, booked):
    plan, _ = booked
    analyst = UserFactory(username="analyst-acme")
    MembershipFactory(tenant=plan.tenant, user=analyst, role=Membership.Role.ANALYST)
    staff_client.post(
        "/ledger/recalculations/new/",
        {"plan": plan.pk, "close_from": "2026-01-01", "close_to": "2026-06-30"},
    )
    recalculation = Recalculation.objects.get()

    staff_client.force_login(analyst)
    forbidden = staff_client.post(f"/ledger/recalculations/{recalculation.pk}/apply/")
    readable = staff_client.get(f"/ledger/recalculations/{recalculation.pk}/")
    staff_client.force_login(admin_user)
    discarded = staff_client.post(f"/ledger/recalculations/{recalculation.pk}/discard/")

    assert forbidden.status_code == 403
    assert readable.status_code == 200
    assert "Apply 2 adjustments" not in readable.content.decode()
    assert discarded.status_code == 302
    recalculation.refresh_from_db()
    assert recalculation.status == Recalculation.Status.DISCARDED
    events = list(
        AuditEvent.objects.filter(
            object_type="commissions.Recalculation", object_id=str(recalculation.pk)
        )
        .order_by("id")
        .values_list("event", flat=True)
    )
    assert events == ["recalculation.previewed", "recalculation.discarded"]
