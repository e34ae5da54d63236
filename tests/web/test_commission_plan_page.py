"""The commission plan page: read-only for analysts, a form for admins and partner managers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from commissions import views as commission_views
from commissions.models import CommissionPlan, LedgerEntry
from tenancy.errors import DomainError
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope

VALID_PLAN = {
    "name": "Fit-weighted",
    "base_rate_percent": "12.5",
    "multiplier_a": "2",
    "multiplier_b": "1.25",
    "multiplier_c": "0.75",
    "multiplier_d": "0.1",
}
ORIGINAL_VALUES = {
    "base_rate": "0.1000",
    "multiplier_a": "1.50",
    "multiplier_b": "1.00",
    "multiplier_c": "0.50",
    "multiplier_d": "0.00",
}


def post_plan(client, **changes):
    return client.post(reverse("commissions:plan_update"), {**VALID_PLAN, **changes})


def stored_plans(tenant) -> list[tuple[str, bool, dict]]:
    """Return every plan of `tenant` as (name, is_active, values as strings)."""
    with tenant_scope(tenant):
        return [
            (
                plan.name,
                plan.is_active,
                {field: str(getattr(plan, field)) for field in ORIGINAL_VALUES},
            )
            for plan in CommissionPlan.objects.order_by("pk")
        ]


def plan_events(tenant) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(event="commission_plan.activated"))


def test_plan_page_read_only_for_analyst(analyst_client, program):
    response = analyst_client.get(reverse("commissions:plan"))
    content = response.content.decode()

    assert response.status_code == 200
    assert "Fit-weighted" in content
    assert "10.00%" in content
    assert "×1.50" in content
    assert "keep the rate they were booked with" in content
    assert reverse("commissions:plan_update") not in content
    assert 'name="base_rate_percent"' not in content
    assert "Your role can view the plan but not change it" in content


def test_plan_page_tier_a_example(analyst_client, program):
    response = analyst_client.get(reverse("commissions:plan"))
    content = response.content.decode()

    # 10,000.00 × 10% × 1.50 for tier A.
    assert response.context["tier_a_example"].amount == Decimal("1500.00")
    assert "a 10,000.00 USD deal on a tier A account earns <strong>1,500.00 USD</strong>" in content


def test_plan_page_shows_form_to_manager(manager_client, program):
    response = manager_client.get(reverse("commissions:plan"))
    form = response.context["form"]

    assert response.status_code == 200
    assert reverse("commissions:plan_update") in response.content.decode()
    assert form["name"].value() == "Fit-weighted"
    assert form["base_rate_percent"].value() == Decimal("10.00")
    assert form["multiplier_a"].value() == Decimal("1.50")


def test_ledger_page_links_plan(analyst_client, program):
    content = analyst_client.get(reverse("commissions:ledger_list")).content.decode()

    assert f'href="{reverse("commissions:plan")}"' in content


def test_manager_updates_plan(manager_client, program):
    response = post_plan(manager_client)

    assert response.status_code == 302
    assert response["Location"] == reverse("commissions:plan")
    with tenant_scope(program.tenant):
        plan = CommissionPlan.objects.get(is_active=True)
    assert plan.pk == program.plan.pk
    assert plan.base_rate == Decimal("0.1250")
    assert str(plan.base_rate) == "0.1250"
    assert plan.multiplier_a == Decimal("2.00")
    assert plan.multiplier_b == Decimal("1.25")
    assert plan.multiplier_c == Decimal("0.75")
    assert plan.multiplier_d == Decimal("0.10")


def test_plan_update_records_audit_event(manager_client, program):
    post_plan(manager_client)

    events = plan_events(program.tenant)

    assert len(events) == 1
    assert events[0].actor.username == "partner_manager-acme"
    assert events[0].object_id == str(program.plan.pk)
    assert events[0].before["base_rate"] == "0.1000"
    assert events[0].after["base_rate"] == "0.1250"
    assert events[0].after["multiplier_d"] == "0.10"


def test_plan_update_keeps_booked_entries(manager_client, program):
    post_plan(manager_client, base_rate_percent="50")

    with tenant_scope(program.tenant):
        entry = LedgerEntry.objects.get(pk=program.entry.pk)
    assert entry.rate == Decimal("0.1000")
    assert entry.multiplier == Decimal("1.50")
    assert entry.amount == Decimal("1875.00")


def test_plan_update_shows_new_values(manager_client, program):
    response = manager_client.post(reverse("commissions:plan_update"), VALID_PLAN, follow=True)
    content = response.content.decode()

    assert "Activated the plan “Fit-weighted”" in content
    assert "12.50%" in content
    # 10,000.00 × 12.5% × 2.00 for tier A.
    assert "2,500.00 USD" in content


def test_plan_under_new_name_replaces_active(manager_client, program):
    post_plan(manager_client, name="Summer push")

    plans = stored_plans(program.tenant)

    assert [(name, active) for name, active, _ in plans] == [
        ("Fit-weighted", False),
        ("Summer push", True),
    ]
    assert plans[0][2] == ORIGINAL_VALUES


def test_admin_updates_plan(staff_client, program):
    response = post_plan(staff_client, base_rate_percent="7.25")

    assert response.status_code == 302
    with tenant_scope(program.tenant):
        assert CommissionPlan.objects.get(is_active=True).base_rate == Decimal("0.0725")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("base_rate_percent", "150", id="rate-above-100"),
        pytest.param("base_rate_percent", "-1", id="rate-negative"),
        pytest.param("base_rate_percent", "10.125", id="rate-three-decimals"),
        pytest.param("base_rate_percent", "ten", id="rate-not-a-number"),
        pytest.param("base_rate_percent", "", id="rate-missing"),
        pytest.param("multiplier_a", "-1", id="multiplier-negative"),
        pytest.param("multiplier_b", "10.5", id="multiplier-above-10"),
        pytest.param("multiplier_c", "0.333", id="multiplier-three-decimals"),
        pytest.param("name", "   ", id="name-blank"),
    ],
)
def test_invalid_plan_is_field_error(manager_client, program, field, value):
    response = post_plan(manager_client, **{field: value})

    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert f'id="id_{field}_error"' in response.content.decode()
    assert stored_plans(program.tenant) == [("Fit-weighted", True, ORIGINAL_VALUES)]
    assert plan_events(program.tenant) == []


def test_rate_and_multiplier_errors_together(manager_client, program):
    response = post_plan(manager_client, base_rate_percent="150", multiplier_a="-1")
    errors = response.context["form"].errors

    assert response.status_code == 400
    assert errors["base_rate_percent"] == ["Ensure this value is less than or equal to 100."]
    assert errors["multiplier_a"] == ["Ensure this value is greater than or equal to 0."]
    assert stored_plans(program.tenant) == [("Fit-weighted", True, ORIGINAL_VALUES)]


def test_service_error_shown_on_field(manager_client, program, monkeypatch):
    def reject(**values):
        raise DomainError(
            "Base rate 0.9 is out of range.",
            field="base_rate",
            value=values["base_rate"],
            fix="Give a lower rate.",
        )

    monkeypatch.setattr(commission_views, "commission_plan_activate", reject)

    response = post_plan(manager_client)

    assert response.status_code == 400
    assert response.context["form"].errors["base_rate_percent"] == [
        "Base rate 0.9 is out of range. Give a lower rate."
    ]


def test_analyst_cannot_update_plan(analyst_client, program):
    response = post_plan(analyst_client)

    assert response.status_code == 403
    assert stored_plans(program.tenant) == [("Fit-weighted", True, ORIGINAL_VALUES)]


def test_partner_user_cannot_update_plan(partner_client, program):
    response = post_plan(partner_client)

    assert response.status_code == 403
    assert stored_plans(program.tenant) == [("Fit-weighted", True, ORIGINAL_VALUES)]


def test_anonymous_plan_update_redirected(client, program):
    response = post_plan(client)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert stored_plans(program.tenant) == [("Fit-weighted", True, ORIGINAL_VALUES)]


def test_plan_update_rejects_get(manager_client):
    response = manager_client.get(reverse("commissions:plan_update"))

    assert response.status_code == 405


def test_plan_update_leaves_other_tenant_plan(manager_client, program, other_program):
    post_plan(manager_client, base_rate_percent="30")

    assert stored_plans(other_program.tenant) == [("Fit-weighted", True, ORIGINAL_VALUES)]


def test_plan_page_without_plan(manager_client, tenant):
    response = manager_client.get(reverse("commissions:plan"))
    content = response.content.decode()

    assert response.status_code == 200
    assert "No commission plan is active" in content
    assert "Set up a plan" in content
    assert response.context["form"]["multiplier_a"].value() == Decimal("1.50")


def test_first_plan_created_from_page(manager_client, tenant):
    response = post_plan(manager_client, name="Launch plan")

    assert response.status_code == 302
    assert stored_plans(tenant) == [
        (
            "Launch plan",
            True,
            {
                "base_rate": "0.1250",
                "multiplier_a": "2.00",
                "multiplier_b": "1.25",
                "multiplier_c": "0.75",
                "multiplier_d": "0.10",
            },
        )
    ]
    assert len(plan_events(tenant)) == 1
