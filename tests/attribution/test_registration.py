"""Registration: approval or stored conflict, idempotency, the lock, and manager reviews."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection

from attribution.fraud.review import fraud_signal_confirm
from attribution.models import FraudSignal, Referral, Touch
from attribution.referrals import referral_register, referral_review
from crm.models import Account, Deal
from crm.services import deal_upsert
from partners.models import Partner
from tenancy.errors import DomainError
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tests.factories import (
    AccountFactory,
    DealFactory,
    PartnerFactory,
    UserFactory,
    registration_create,
)


@pytest.fixture
def acme(scoped):
    return AccountFactory(tenant=scoped, name="Acme", domain="acme.com", fit_score=64, fit_tier="B")


def register(partner, company="acme.com", **values):
    values.setdefault("source", Referral.Source.PORTAL)
    return referral_register(partner=partner, company=company, **values)


def test_eligible_registration_is_approved_with_touch(scoped, acme, partner, admin_user):
    referral, created = register(
        partner,
        "https://www.acme.com/",
        contact_email="jo@acme.com",
        notes="Met at the fair",
        actor=admin_user,
    )

    touch = Touch.objects.get()
    acme.refresh_from_db()
    assert created is True
    assert referral.status == Referral.Status.APPROVED
    assert referral.conflict == ""
    assert referral.domain == "acme.com"
    assert referral.account == acme
    assert referral.company_name == ""
    assert (referral.fit_tier, referral.fit_score) == ("B", 64)
    assert referral.registered_by == admin_user
    assert referral.expires_on == scoped.today() + datetime.timedelta(days=365)
    assert touch.kind == Touch.Kind.REGISTRATION
    assert touch.idempotency_key == (
        f"registration:{referral.pk}:{referral.registered_at.timestamp():.0f}"
    )
    assert touch.touched_at == referral.registered_at
    assert touch.partner == partner
    assert acme.referred_by == partner
    assert acme.referred_at == scoped.today()
    event = AuditEvent.objects.get(event="referral.registered")
    assert event.after["status"] == "approved"


def test_unknown_company_registration_keeps_name(scoped, partner):
    referral, _ = register(partner, "newco.io", company_name="Newco Ltd")

    assert referral.status == Referral.Status.APPROVED
    assert referral.account is None
    assert referral.company_name == "Newco Ltd"
    assert referral.fit_tier == ""
    assert referral.fit_score is None


def test_conflict_is_stored_without_touch(scoped, acme, partner, rival):
    first, _ = register(rival)

    second, created = register(partner)

    acme.refresh_from_db()
    assert created is True
    assert second.status == Referral.Status.CONFLICT
    assert second.conflict == Referral.Conflict.REGISTERED
    assert second.conflict_detail["partner_id"] == rival.pk
    assert "Another partner registered acme.com" in second.conflict_detail["message"]
    assert second.conflict_detail["staff_message"].startswith("South Agency")
    assert list(Touch.objects.values_list("referral_id", flat=True)) == [first.pk]
    assert acme.referred_by == rival


def test_customer_conflict_leaves_deals_alone(scoped, acme, partner):
    won = DealFactory(tenant=scoped, account=acme, stage=Deal.Stage.WON, close_date=scoped.today())

    referral, _ = register(partner)

    won.refresh_from_db()
    assert referral.conflict == Referral.Conflict.CUSTOMER
    assert won.partner is None
    assert Touch.objects.count() == 0


def test_same_partner_again_returns_existing(scoped, acme, partner):
    first, _ = register(partner)

    again, created = register(partner, "jane@acme.com", notes="second try")

    assert created is False
    assert again.pk == first.pk
    assert again.notes == ""
    assert Referral.objects.count() == 1
    assert Touch.objects.count() == 1
    assert AuditEvent.objects.filter(event="referral.registered").count() == 1


def test_repeat_of_conflict_returns_conflict(scoped, acme, partner, rival):
    register(rival)
    first, _ = register(partner)

    again, created = register(partner)

    assert created is False
    assert again.pk == first.pk
    assert again.status == Referral.Status.CONFLICT


def test_later_deal_is_credited(scoped, acme, partner):
    register(partner)

    deal, _ = deal_upsert(tenant=scoped, external_id="O1", stage="open", account_domain="acme.com")

    deal.refresh_from_db()
    assert deal.partner == partner
    assert deal.source == Deal.Source.PARTNER


def test_backdated_registration_starts_that_day(scoped, acme, partner):
    referral, _ = register(
        partner, registered_on=datetime.date(2025, 3, 1), source=Referral.Source.API
    )

    assert referral.registered_at == datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC)
    assert referral.expires_on == datetime.date(2026, 3, 1)


def test_registration_uses_tenant_time_zone(scoped, acme, partner):
    scoped.time_zone = "America/New_York"
    scoped.save()

    referral, _ = register(partner, registered_on=datetime.date(2025, 3, 1))

    assert referral.registered_at == datetime.datetime(2025, 3, 1, 5, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"company": "jane@gmail.com"}, "domain"),
        ({"company": "localhost"}, "domain"),
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"company_name": "x" * 256}, "company_name"),
        ({"notes": "x" * 5001}, "notes"),
        ({"registered_on": datetime.date(2999, 1, 1)}, "referred_at"),
    ],
)
def test_invalid_input_names_field_and_stores_nothing(scoped, acme, partner, values, field):
    with pytest.raises(DomainError) as caught:
        register(partner, **values)

    assert caught.value.field == field
    assert caught.value.fix
    assert Referral.objects.count() == 0


def test_inactive_partner_rejected(scoped, acme, partner):
    Partner.objects.filter(pk=partner.pk).update(status=Partner.Status.PAUSED)
    partner.refresh_from_db()

    with pytest.raises(DomainError) as caught:
        register(partner)

    assert caught.value.field == "partner"
    assert "paused" in caught.value.message
    assert Referral.objects.count() == 0


def test_reject_removes_credit_and_referrer(scoped, acme, partner, admin_user):
    referral, _ = register(partner)
    deal, _ = deal_upsert(tenant=scoped, external_id="O1", stage="open", account_domain="acme.com")

    rejected = referral_review(
        referral=referral, decision="reject", note="Duplicate lead", actor=admin_user
    )

    deal.refresh_from_db()
    acme.refresh_from_db()
    assert rejected.status == Referral.Status.REJECTED
    assert rejected.reviewed_by == admin_user
    assert rejected.review_note == "Duplicate lead"
    assert deal.partner is None
    assert deal.source == Deal.Source.DIRECT
    assert acme.referred_by is None
    event = AuditEvent.objects.get(event="referral.rejected")
    assert event.before == {"status": "approved"}
    assert event.after == {"status": "rejected", "note": "Duplicate lead"}


def test_approving_conflict_counts_under_last_touch(scoped, acme, partner, rival, admin_user):
    scoped.attribution_touch = "last"
    scoped.save()
    registration_create(rival, "acme.com", scoped.today() - datetime.timedelta(days=20))
    conflict, _ = register(partner)
    deal, _ = deal_upsert(tenant=scoped, external_id="O1", stage="open", account_domain="acme.com")
    deal.refresh_from_db()
    assert deal.partner == rival

    approved = referral_review(
        referral=conflict, decision="approve", note="Partner brought the buyer", actor=admin_user
    )

    deal.refresh_from_db()
    acme.refresh_from_db()
    assert approved.status == Referral.Status.APPROVED
    assert Touch.objects.filter(referral=conflict).count() == 1
    assert deal.partner == partner
    assert acme.referred_by == rival


def test_review_repeated_changes_nothing(scoped, acme, partner, admin_user):
    referral, _ = register(partner)
    referral_review(referral=referral, decision="reject", note="No", actor=admin_user)

    again = referral_review(referral=referral, decision="reject", note="Still no", actor=admin_user)

    assert again.review_note == "No"
    assert AuditEvent.objects.filter(event="referral.rejected").count() == 1


def test_review_needs_note(scoped, acme, partner):
    referral, _ = register(partner)

    with pytest.raises(DomainError) as caught:
        referral_review(referral=referral, decision="reject", note="  ")

    referral.refresh_from_db()
    assert caught.value.field == "note"
    assert referral.status == Referral.Status.APPROVED


def test_approve_then_reject_keeps_one_touch(scoped, acme, partner, rival, admin_user):
    register(rival)
    conflict, _ = register(partner)

    referral_review(referral=conflict, decision="approve", note="ok", actor=admin_user)
    referral_review(referral=conflict, decision="reject", note="no", actor=admin_user)
    referral_review(referral=conflict, decision="approve", note="ok again", actor=admin_user)

    assert Touch.objects.filter(referral=conflict).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_approve_exactly_one(tenant):
    with tenant_scope(tenant):
        AccountFactory(tenant=tenant, domain="race.com")
        partners = [
            PartnerFactory(tenant=tenant, external_id=f"racer-{n}", name=f"Racer {n}")
            for n in range(4)
        ]
        user = UserFactory(username="racer")
    barrier = threading.Barrier(len(partners))
    errors: list[BaseException] = []

    def race(partner):
        try:
            with tenant_scope(tenant):
                barrier.wait(timeout=10)
                referral_register(
                    partner=partner, company="race.com", source=Referral.Source.API, actor=user
                )
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(partner,)) for partner in partners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    statuses = sorted(Referral.all_tenants.values_list("status", flat=True))
    assert statuses == ["approved", "conflict", "conflict", "conflict"]
    conflicts = Referral.all_tenants.filter(status="conflict")
    assert set(conflicts.values_list("conflict", flat=True)) == {"registered"}
    winner = Referral.all_tenants.get(status="approved")
    assert Account.all_tenants.get(domain="race.com").referred_by_id == winner.partner_id
    assert Touch.all_tenants.count() == 1


def test_account_import_links_earlier_registration(scoped, partner):
    from crm.importing import csv_import

    referral, _ = register(partner, "newco.io")
    assert referral.account is None

    csv_import(
        tenant=scoped,
        kind="accounts",
        filename="a.csv",
        content=b"external_id,name,domain\nn1,Newco,https://newco.io\n",
    )

    referral.refresh_from_db()
    account = Account.objects.get(external_id="n1")
    assert referral.account == account
    assert account.referred_by == partner
    assert account.referred_at == referral.registered_at.date()


def test_account_domain_change_moves_registration_link(scoped, partner, acme):
    from crm.importing import csv_import

    referral, _ = register(partner)

    csv_import(
        tenant=scoped,
        kind="accounts",
        filename="a.csv",
        content=f"external_id,name,domain\n{acme.external_id},Acme,acme.io\n".encode(),
    )

    referral.refresh_from_db()
    acme.refresh_from_db()
    assert referral.account is None
    assert acme.referred_by is None


def test_self_referral_flagged_after_commit(scoped, partner, django_capture_on_commit_callbacks):
    partner.domain = "north-partners.com"
    partner.save()

    with django_capture_on_commit_callbacks(execute=True):
        referral, _ = register(partner, "https://www.north-partners.com/")

    signal = FraudSignal.objects.get(partner=partner)
    assert signal.kind == FraudSignal.Kind.SELF_REFERRAL
    assert signal.referral_id == referral.pk


def test_confirmed_self_referral_loses_credit(
    scoped, partner, admin_user, django_capture_on_commit_callbacks
):
    partner.domain = "north-partners.com"
    partner.save()
    account = AccountFactory(tenant=scoped, name="North itself", domain="north-partners.com")
    with django_capture_on_commit_callbacks(execute=True):
        referral, _ = register(partner, "north-partners.com")
    deal, _ = deal_upsert(
        tenant=scoped, external_id="self-1", stage="open", amount="500.00",
        account_external_id=account.external_id,
    )  # fmt: skip
    deal.refresh_from_db()
    assert deal.partner_id == partner.pk

    signal = FraudSignal.objects.get(partner=partner)
    fraud_signal_confirm(signal=signal, actor=admin_user, note="Their own company.")

    deal.refresh_from_db()
    referral.refresh_from_db()
    assert referral.status == Referral.Status.REJECTED
    assert deal.partner_id is None


def test_expired_registration_renews(scoped, acme, partner):
    old = registration_create(partner, "acme.com", scoped.today() - datetime.timedelta(days=400))

    renewed, created = register(partner)

    assert created is True
    assert renewed.pk == old.pk
    assert renewed.status == Referral.Status.APPROVED
    assert renewed.expires_on > scoped.today()
    assert Touch.objects.filter(referral=renewed).count() == 2


def test_cleared_conflict_renews(scoped, acme, partner):
    deal, _ = deal_upsert(tenant=scoped, external_id="O9", stage="open", account_domain="acme.com")
    first, _ = register(partner)
    assert first.status == Referral.Status.CONFLICT
    deal_upsert(tenant=scoped, external_id="O9", stage="lost", account_domain="acme.com")

    again, created = register(partner)

    assert created is True
    assert again.pk == first.pk
    assert again.status == Referral.Status.APPROVED
    assert again.conflict == ""


def test_rejected_registration_stands(scoped, acme, partner, admin_user):
    first, _ = register(partner)
    referral_review(referral=first, decision="reject", note="Not theirs.", actor=admin_user)

    again, created = register(partner)

    assert created is False
    assert again.status == Referral.Status.REJECTED
