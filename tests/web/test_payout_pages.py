"""The payout pages, entry review buttons and the partner portal's statements."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from commissions.models import LedgerEntry, Payout
from commissions.payouts import payouts_prepare
from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.commissions.test_payouts import THIS_MONTH, entry
from tests.factories import MembershipFactory, PartnerFactory, UserFactory

S = LedgerEntry.Status


def _partner_client(tenant, partner, username):
    user = UserFactory(username=username)
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER, partner=partner)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(tenant):
    with tenant_scope(tenant):
        north = PartnerFactory(tenant=tenant, name="Northwind")
        south = PartnerFactory(tenant=tenant, name="Southwind")
        entry(north, "80.00", memo="Q4 renewal")
        entry(south, "20.00", memo="Below the minimum")
        payouts = {p.partner_id: p for p in payouts_prepare(tenant=tenant, period=THIS_MONTH)}
    return north, south, payouts[north.pk], payouts[south.pk]


def test_payout_list_and_statement(staff_client, world):
    north, _, payout, carried = world

    listed = staff_client.get(f"/ledger/payouts/?period={THIS_MONTH.label}")
    statement = staff_client.get(f"/ledger/payouts/{payout.pk}/")
    carried_page = staff_client.get(f"/ledger/payouts/{carried.pk}/")

    assert listed.status_code == 200
    assert "Northwind" in listed.content.decode()
    assert "Southwind" in listed.content.decode()
    assert "Q4 renewal" in statement.content.decode()
    assert "carry over to the next period" in carried_page.content.decode()
    assert "Below the minimum" in carried_page.content.decode()


def test_prepare_page_then_same_person_approval_is_refused(staff_client, tenant, admin_user):
    with tenant_scope(tenant):
        entry(PartnerFactory(tenant=tenant), "99.00")

    response = staff_client.post("/ledger/payouts/prepare/", {"period": THIS_MONTH.label})
    with tenant_scope(tenant):
        payout = Payout.objects.get()
    refused = staff_client.post(f"/ledger/payouts/{payout.pk}/approve/", follow=True)

    assert response.status_code == 302
    assert payout.prepared_by == admin_user
    assert "someone else must approve" in refused.content.decode()
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PREPARED


def test_second_person_approves_and_marks_paid(tenant, world):
    _, _, payout, _ = world
    user = UserFactory(username="manager-acme")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER_MANAGER)
    client = Client()
    client.force_login(user)

    client.post(f"/ledger/payouts/{payout.pk}/approve/")
    client.post(f"/ledger/payouts/{payout.pk}/mark-paid/", {"confirmed": "1"})

    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID


def test_ledger_page_approves_and_voids_entries(staff_client, scoped):
    partner = PartnerFactory(tenant=scoped)
    pending = entry(partner, "10.00", status=S.PENDING)
    held = entry(partner, "10.00", status=S.HELD)

    page = staff_client.get("/ledger/")
    staff_client.post(f"/ledger/entries/{pending.pk}/approve/")
    refused = staff_client.post(f"/ledger/entries/{held.pk}/approve/", follow=True)

    assert f"/ledger/entries/{pending.pk}/approve/" in page.content.decode()
    assert f"/ledger/entries/{held.pk}/approve/" not in page.content.decode()
    pending.refresh_from_db()
    held.refresh_from_db()
    assert pending.status == S.APPROVED
    assert held.status == S.HELD
    assert "held for fraud review" in refused.content.decode()


def test_portal_shows_only_own_statements(tenant, world):
    north, _, payout, carried = world
    client = _partner_client(tenant, north, "north-user@example.com")

    portal = client.get("/partners/portal/")
    own = client.get(f"/partners/portal/statements/{payout.pk}/")
    other = client.get(f"/partners/portal/statements/{carried.pk}/")

    assert f"/partners/portal/statements/{payout.pk}/" in portal.content.decode()
    assert f"/partners/portal/statements/{carried.pk}/" not in portal.content.decode()
    assert own.status_code == 200
    assert "Q4 renewal" in own.content.decode()
    assert other.status_code == 404
    assert "Below the minimum" not in other.content.decode()


def test_portal_statement_of_carried_over_period_says_so(tenant, world):
    _, south, _, carried = world
    client = _partner_client(tenant, south, "south-user@example.com")

    page = client.get(f"/partners/portal/statements/{carried.pk}/")

    assert page.status_code == 200
    assert "carry over to the next period" in page.content.decode()


def test_prepare_empty_month_says_nothing_new(manager_client, program):
    response = manager_client.post(
        reverse("commissions:payout_prepare"), {"period": "1990-01"}, follow=True
    )

    assert "Nothing new to prepare for 1990-01" in response.content.decode()


def test_mark_paid_twice_says_already_paid(manager_client, program):
    with tenant_scope(program.tenant):
        Payout.objects.filter(pk=program.payout.pk).update(status=Payout.Status.PAID)

    response = manager_client.post(
        reverse("commissions:payout_mark_paid", args=[program.payout.pk]), follow=True
    )

    assert "already marked paid" in response.content.decode()


def test_bad_filter_period_error_at_field(manager_client, program):
    response = manager_client.get(reverse("commissions:payout_list"), {"period": "abc"})

    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="period-filter-error"' in page
    assert 'value="abc"' in page


def test_future_prepare_period_error_at_field(manager_client, program):
    response = manager_client.post(reverse("commissions:payout_prepare"), {"period": "2999-01"})

    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="period-prepare-error"' in page
    assert "has not started yet" in page
    assert 'value="2999-01"' in page
