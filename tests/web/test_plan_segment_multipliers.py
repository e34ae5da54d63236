"""Segment multipliers on the commission plan page: shown, saved, kept and checked."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from commissions.models import CommissionPlan
from tenancy.scope import tenant_scope
from tests.web.test_commission_plan_page import VALID_PLAN


def stored_plan(tenant) -> CommissionPlan:
    with tenant_scope(tenant):
        return CommissionPlan.objects.get(is_active=True)


def test_plan_page_lists_segment_multipliers(manager_client, program):
    content = manager_client.get(reverse("commissions:plan")).content.decode()

    assert "Multipliers by partner segment" in content
    assert "Deprioritise" in content
    assert "×1.00" in content
    assert 'name="segment_multiplier_strategic"' in content


def test_plan_page_saves_segment_multiplier(manager_client, program):
    body = {**VALID_PLAN, "segment_multiplier_strategic": "1.3"}

    response = manager_client.post(reverse("commissions:plan_update"), body)

    assert response.status_code == 302
    plan = stored_plan(program.tenant)
    assert plan.segment_multiplier_strategic == Decimal("1.30")
    assert plan.segment_multiplier_grow == Decimal("1.00")


def test_plan_page_empty_segment_keeps_value(manager_client, program):
    manager_client.post(
        reverse("commissions:plan_update"), {**VALID_PLAN, "segment_multiplier_nurture": "0.8"}
    )

    manager_client.post(
        reverse("commissions:plan_update"), {**VALID_PLAN, "segment_multiplier_nurture": ""}
    )

    assert stored_plan(program.tenant).segment_multiplier_nurture == Decimal("0.80")


def test_plan_page_rejects_segment_multiplier_above_5(manager_client, program):
    body = {**VALID_PLAN, "segment_multiplier_grow": "6"}

    response = manager_client.post(reverse("commissions:plan_update"), body)

    assert response.status_code == 400
    assert response.context["form"].errors["segment_multiplier_grow"] == [
        "Ensure this value is less than or equal to 5."
    ]
    assert stored_plan(program.tenant).segment_multiplier_grow == Decimal("1.00")
