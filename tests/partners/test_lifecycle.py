"""Partner status lifecycle: the transition table, repeats, audit and owner rules."""

from __future__ import annotations

import itertools

import pytest

from partners.lifecycle import TRANSITIONS, allowed_next_statuses, partner_status_change
from partners.models import Partner
from partners.services import owner_by_id, partner_create, partner_update, partner_upsert
from tenancy.errors import Conflict, DomainError
from tenancy.models import AuditEvent, Membership
from tests.factories import MembershipFactory, PartnerFactory, UserFactory

STATUSES = Partner.Status.values
ALLOWED = {
    ("prospect", "applied"),
    ("prospect", "active"),
    ("prospect", "terminated"),
    ("applied", "active"),
    ("applied", "terminated"),
    ("active", "paused"),
    ("active", "terminated"),
    ("paused", "active"),
    ("paused", "terminated"),
}
MOVES = [pair for pair in itertools.product(STATUSES, STATUSES) if pair[0] != pair[1]]


def status_events():
    return AuditEvent.objects.filter(event="partner.status_changed")


def test_transition_table_covers_every_status():
    assert set(TRANSITIONS) == set(STATUSES)
    assert {(a, b) for a, nexts in TRANSITIONS.items() for b in nexts} == ALLOWED


@pytest.mark.parametrize(("current", "requested"), sorted(ALLOWED))
def test_allowed_move_applies(scoped, admin_user, current, requested):
    partner = PartnerFactory(tenant=scoped, status=current)

    changed = partner_status_change(partner=partner, status=requested, actor=admin_user)

    partner.refresh_from_db()
    assert changed.status == requested
    assert partner.status == requested
    assert status_events().count() == 1


@pytest.mark.parametrize(("current", "requested"), [m for m in MOVES if m not in ALLOWED])
def test_disallowed_move_rejected(scoped, admin_user, current, requested):
    partner = PartnerFactory(tenant=scoped, status=current)

    with pytest.raises(Conflict) as error:
        partner_status_change(partner=partner, status=requested, actor=admin_user)

    partner.refresh_from_db()
    assert partner.status == current
    assert error.value.field == "status"
    assert error.value.value == requested
    assert current in error.value.message
    assert requested in error.value.message
    for allowed in allowed_next_statuses(current):
        assert allowed in error.value.fix
    assert not status_events().exists()


def test_terminated_fix_says_final(scoped, admin_user):
    partner = PartnerFactory(tenant=scoped, status="terminated")

    with pytest.raises(Conflict) as error:
        partner_status_change(partner=partner, status="active", actor=admin_user)

    assert "final" in error.value.fix


def test_unknown_status_rejected(scoped, admin_user):
    partner = PartnerFactory(tenant=scoped, status="active")

    with pytest.raises(DomainError) as error:
        partner_status_change(partner=partner, status="gone", actor=admin_user)

    assert not isinstance(error.value, Conflict)
    assert error.value.field == "status"
    assert error.value.value == "gone"


@pytest.mark.parametrize("status", STATUSES)
def test_repeat_status_is_noop(scoped, admin_user, status):
    partner = PartnerFactory(tenant=scoped, status=status)

    first = partner_status_change(partner=partner, status=status, actor=admin_user)
    second = partner_status_change(partner=partner, status=status, actor=admin_user)

    assert first.status == status
    assert second.status == status
    assert not status_events().exists()


def test_repeated_change_audits_once(scoped, admin_user):
    partner = PartnerFactory(tenant=scoped, status="active")

    partner_status_change(partner=partner, status="paused", actor=admin_user, reason="Audit")
    partner_status_change(partner=partner, status="paused", actor=admin_user, reason="Audit")

    assert status_events().count() == 1


def test_status_change_audit_content(scoped, admin_user):
    partner = PartnerFactory(tenant=scoped, status="active")

    partner_status_change(
        partner=partner, status="paused", actor=admin_user, reason="  Contract review  "
    )

    event = status_events().get()
    assert event.actor == admin_user
    assert event.object_type == "partners.Partner"
    assert event.object_id == str(partner.pk)
    assert event.before == {"status": "active"}
    assert event.after == {"status": "paused", "reason": "Contract review"}


def test_partner_update_rejects_status_change(scoped):
    partner = PartnerFactory(tenant=scoped, status="active", name="First")

    with pytest.raises(DomainError) as error:
        partner_update(partner=partner, name="Second", status="paused")

    partner.refresh_from_db()
    assert error.value.field == "status"
    assert error.value.value == "paused"
    assert "/status/" in error.value.fix
    assert (partner.name, partner.status) == ("First", "active")


def test_partner_update_accepts_same_status(scoped):
    partner = PartnerFactory(tenant=scoped, status="active", name="First")

    partner_update(partner=partner, name="Second", status="active")

    partner.refresh_from_db()
    assert (partner.name, partner.status) == ("Second", "active")


def test_upsert_existing_follows_lifecycle(scoped):
    PartnerFactory(tenant=scoped, external_id="p-1", status="terminated", name="Old")

    with pytest.raises(Conflict):
        partner_upsert(tenant=scoped, external_id="p-1", name="New", status="active")

    partner = Partner.objects.get()
    assert (partner.name, partner.status) == ("Old", "terminated")


def test_upsert_existing_moves_status_audited(scoped):
    PartnerFactory(tenant=scoped, external_id="p-1", status="active")

    partner, created = partner_upsert(tenant=scoped, external_id="p-1", name="P", status="paused")

    assert created is False
    assert partner.status == "paused"
    assert status_events().get().after == {"status": "paused", "reason": ""}


def test_create_starts_in_any_status(scoped):
    partner = partner_create(tenant=scoped, external_id="p-1", name="P", status="terminated")

    assert partner.status == "terminated"


@pytest.mark.parametrize("role", [Membership.Role.ADMIN, Membership.Role.PARTNER_MANAGER])
def test_owner_tenant_staff_accepted(scoped, role):
    user = UserFactory()
    MembershipFactory(tenant=scoped, user=user, role=role)
    partner = PartnerFactory(tenant=scoped)

    partner_update(partner=partner, owner=user)

    partner.refresh_from_db()
    event = AuditEvent.objects.get(event="partner.updated")
    assert partner.owner == user
    assert event.before == {"owner": None}
    assert event.after == {"owner": user.username}


def test_owner_analyst_rejected(scoped):
    user = UserFactory()
    MembershipFactory(tenant=scoped, user=user, role=Membership.Role.ANALYST)
    partner = PartnerFactory(tenant=scoped)

    with pytest.raises(DomainError) as error:
        partner_update(partner=partner, owner=user)

    partner.refresh_from_db()
    assert error.value.field == "owner"
    assert error.value.value == user.pk
    assert partner.owner is None


def test_owner_other_tenant_rejected(scoped, other_admin_user):
    partner = PartnerFactory(tenant=scoped)

    with pytest.raises(DomainError) as error:
        partner_create(tenant=scoped, external_id="p-new", name="New", owner=other_admin_user)

    assert error.value.field == "owner"
    assert not Partner.objects.filter(external_id="p-new").exists()
    with pytest.raises(DomainError):
        partner_update(partner=partner, owner=other_admin_user)


def test_owner_by_id_hides_other_tenants(scoped, admin_user, other_admin_user):
    assert owner_by_id(tenant_id=scoped.pk, user_id=admin_user.pk) == admin_user
    assert owner_by_id(tenant_id=scoped.pk, user_id=None) is None

    with pytest.raises(DomainError) as other:
        owner_by_id(tenant_id=scoped.pk, user_id=other_admin_user.pk)
    with pytest.raises(DomainError) as missing:
        owner_by_id(tenant_id=scoped.pk, user_id=10**9)

    assert other.value.message == missing.value.message
    assert other.value.field == "owner"


def test_unknown_tier_rejected(scoped):
    partner = PartnerFactory(tenant=scoped)

    with pytest.raises(DomainError) as error:
        partner_update(partner=partner, tier="platinum")

    assert error.value.field == "tier"
    assert error.value.value == "platinum"
