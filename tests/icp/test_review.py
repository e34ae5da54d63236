"""ICP review status, completing a review, reminder e-mails and the review interval setting."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from icp.models import IcpVersion
from icp.review import (
    ReviewState,
    icp_review_complete,
    icp_review_reminders_send,
    icp_review_status,
    review_state,
)
from icp.review_tasks import send_icp_review_reminders_task
from tenancy.errors import Conflict, DomainError
from tenancy.models import AuditEvent, Membership
from tenancy.scope import tenant_scope
from tenancy.services import tenant_icp_review_days_set
from tests.factories import MembershipFactory, PartnerFactory, TenantFactory, UserFactory
from tests.icp.drift_data import active_version

TODAY = datetime.date(2025, 3, 10)


def freeze(monkeypatch, moment: datetime.datetime) -> None:
    """Make django.utils.timezone.now return `moment`, which Tenant.today reads too."""
    monkeypatch.setattr(timezone, "now", lambda: moment)


def utc(day: datetime.date, hour: int = 12, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("days_from_today", "state", "days_left"),
    [
        (-30, ReviewState.OVERDUE, -30),
        (-1, ReviewState.OVERDUE, -1),
        (0, ReviewState.DUE, 0),
        (1, ReviewState.UPCOMING, 1),
        (14, ReviewState.UPCOMING, 14),
        (15, ReviewState.OK, 15),
    ],
)
def test_review_state_boundaries(days_from_today, state, days_left):
    due_on = TODAY + datetime.timedelta(days=days_from_today)

    assert review_state(due_on, TODAY) == (state, days_left)


def test_review_state_without_due_date():
    assert review_state(None, TODAY) == (ReviewState.UNSCHEDULED, None)


@pytest.mark.parametrize(
    ("time_zone", "state"),
    [
        # 23:30 UTC on 9 March is already 10 March in Kiritimati (UTC+14) and Berlin.
        ("Pacific/Kiritimati", ReviewState.DUE),
        ("Europe/Berlin", ReviewState.DUE),
        ("UTC", ReviewState.UPCOMING),
        ("America/Los_Angeles", ReviewState.UPCOMING),
    ],
)
def test_status_uses_tenant_time_zone(monkeypatch, tenant, time_zone, state):
    tenant.time_zone = time_zone
    tenant.save(update_fields=["time_zone"])
    active_version(tenant, review_due_on=TODAY)
    freeze(monkeypatch, utc(TODAY - datetime.timedelta(days=1), 23, 30))

    status = icp_review_status(tenant=tenant)

    assert status.state == state
    assert status.due_on == TODAY


def test_status_without_active_version(tenant):
    status = icp_review_status(tenant=tenant)

    assert status.state == ReviewState.NO_VERSION
    assert status.version is None
    assert status.needs_attention is False


def test_complete_moves_due_date_and_audits(monkeypatch, tenant, admin_user):
    tenant.icp_review_days = 30
    tenant.save(update_fields=["icp_review_days"])
    version = active_version(tenant, review_due_on=TODAY - datetime.timedelta(days=3))
    freeze(monkeypatch, utc(TODAY))

    reviewed = icp_review_complete(version=version, actor=admin_user, note="  Still fits.  ")

    assert reviewed.review_due_on == TODAY + datetime.timedelta(days=30)
    assert reviewed.reviewed_by == admin_user
    assert reviewed.reviewed_at == utc(TODAY)
    with tenant_scope(tenant):
        event = AuditEvent.objects.get(event="icp_version.reviewed")
    assert event.before["review_due_on"] == "2025-03-07"
    assert event.before["reviewed_at"] is None
    assert event.after["review_due_on"] == "2025-04-09"
    assert event.after["note"] == "Still fits."
    assert event.actor == admin_user


def test_complete_twice_same_day_records_once(monkeypatch, tenant, admin_user):
    version = active_version(tenant, review_due_on=TODAY)
    freeze(monkeypatch, utc(TODAY, 9))
    icp_review_complete(version=version, actor=admin_user)
    freeze(monkeypatch, utc(TODAY, 17))

    again = icp_review_complete(version=version, actor=admin_user)

    assert again.reviewed_at == utc(TODAY, 9)
    with tenant_scope(tenant):
        assert AuditEvent.objects.filter(event="icp_version.reviewed").count() == 1
        assert not AuditEvent.objects.filter(event="icp_version.review_note_added").exists()


def test_complete_same_day_keeps_new_note_once(monkeypatch, tenant, admin_user):
    version = active_version(tenant, review_due_on=TODAY)
    freeze(monkeypatch, utc(TODAY, 9))
    icp_review_complete(version=version, actor=admin_user, note="First look.")
    freeze(monkeypatch, utc(TODAY, 17))

    icp_review_complete(version=version, actor=admin_user, note="Checked drift too.")
    again = icp_review_complete(version=version, actor=admin_user, note="Checked drift too.")

    assert again.reviewed_at == utc(TODAY, 9)
    with tenant_scope(tenant):
        assert AuditEvent.objects.filter(event="icp_version.reviewed").count() == 1
        notes = AuditEvent.objects.filter(event="icp_version.review_note_added")
        assert [event.after["note"] for event in notes] == ["Checked drift too."]


def test_complete_next_day_records_again(monkeypatch, tenant, admin_user):
    version = active_version(tenant, review_due_on=TODAY)
    freeze(monkeypatch, utc(TODAY))
    icp_review_complete(version=version, actor=admin_user)
    freeze(monkeypatch, utc(TODAY + datetime.timedelta(days=1)))

    again = icp_review_complete(version=version, actor=admin_user)

    assert again.review_due_on == TODAY + datetime.timedelta(days=91)
    with tenant_scope(tenant):
        assert AuditEvent.objects.filter(event="icp_version.reviewed").count() == 2


def test_complete_rejects_draft_version(tenant, admin_user):
    with tenant_scope(tenant):
        draft = IcpVersion.objects.create(
            number=2, name="Draft", status="draft", provenance="manual", criteria=[]
        )

    with pytest.raises(Conflict) as caught:
        icp_review_complete(version=draft, actor=admin_user)

    assert caught.value.field == "version"
    assert "only the active version is reviewed" in caught.value.message


def test_complete_rejects_long_note(tenant, admin_user):
    version = active_version(tenant, review_due_on=TODAY)

    with pytest.raises(DomainError) as caught:
        icp_review_complete(version=version, actor=admin_user, note="x" * 2001)

    assert caught.value.field == "note"
    assert "2,001 characters" in caught.value.message
    with tenant_scope(tenant):
        version.refresh_from_db()
    assert version.reviewed_at is None


@pytest.fixture
def recipients(tenant, other_tenant):
    """Members of every role, with and without e-mail; only the first two get reminders."""
    roles = [
        ("boss", "boss@acme.test", Membership.Role.ADMIN),
        ("manager", "manager@acme.test", Membership.Role.PARTNER_MANAGER),
        ("analyst", "analyst@acme.test", Membership.Role.ANALYST),
        ("silent-admin", "", Membership.Role.ADMIN),
    ]
    for username, email, role in roles:
        MembershipFactory(
            tenant=tenant, user=UserFactory(username=username, email=email), role=role
        )
    with tenant_scope(tenant):
        partner = PartnerFactory(tenant=tenant)
    MembershipFactory(
        tenant=tenant,
        user=UserFactory(username="partner-user", email="partner@acme.test"),
        role=Membership.Role.PARTNER,
        partner=partner,
    )
    MembershipFactory(
        tenant=other_tenant,
        user=UserFactory(username="globex-boss", email="boss@globex.test"),
        role=Membership.Role.ADMIN,
    )
    return ["boss@acme.test", "manager@acme.test"]


def test_reminder_sent_once_to_admins_and_managers(tenant, recipients):
    version = active_version(tenant, review_due_on=TODAY - datetime.timedelta(days=2))

    first = icp_review_reminders_send(today=TODAY)
    second = icp_review_reminders_send(today=TODAY)

    assert first["sent"] == 1
    assert second["sent"] == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == recipients
    assert message.subject == f"ICP review overdue: v1 {version.name}"
    assert "was due on 2025-03-08, 2 days ago" in message.body
    assert "http://testserver/icp/review/" in message.body
    assert "Acme Analytics" in message.body
    with tenant_scope(tenant):
        version.refresh_from_db()
    assert version.review_reminded_for == version.review_due_on


def test_reminder_waits_for_due_date(tenant, recipients):
    active_version(tenant, review_due_on=TODAY + datetime.timedelta(days=1))

    counts = icp_review_reminders_send(today=TODAY)

    assert counts["sent"] == 0
    assert mail.outbox == []


def test_reminder_sent_again_for_next_due_date(monkeypatch, tenant, recipients, admin_user):
    tenant.icp_review_days = 7
    tenant.save(update_fields=["icp_review_days"])
    version = active_version(tenant, review_due_on=TODAY)
    icp_review_reminders_send(today=TODAY)
    freeze(monkeypatch, utc(TODAY))
    icp_review_complete(version=version, actor=admin_user)

    icp_review_reminders_send(today=TODAY + datetime.timedelta(days=7))

    assert len(mail.outbox) == 2
    assert "is due today, 2025-03-17" in mail.outbox[1].body


def test_reminder_failure_of_one_tenant_isolated(tenant, recipients):
    broken = TenantFactory(name="Broken", slug="broken", time_zone="Nowhere/Invalid")
    MembershipFactory(
        tenant=broken, user=UserFactory(username="b", email="b@broken.test"), role="admin"
    )
    broken_version = active_version(broken, review_due_on=datetime.date(2020, 1, 1))
    active_version(tenant, review_due_on=datetime.date(2020, 1, 1))

    counts = icp_review_reminders_send()

    assert counts["failed"] == 1
    assert counts["sent"] == 1
    assert [sorted(message.to) for message in mail.outbox] == [recipients]
    with tenant_scope(broken):
        broken_version.refresh_from_db()
    assert broken_version.review_reminded_for is None


def test_reminder_without_recipients_stays_pending(tenant):
    version = active_version(tenant, review_due_on=TODAY)

    counts = icp_review_reminders_send(today=TODAY)

    assert counts["no_recipients"] == 1
    assert mail.outbox == []
    with tenant_scope(tenant):
        version.refresh_from_db()
    assert version.review_reminded_for is None


def test_reminder_skips_retired_versions(tenant, recipients):
    active_version(tenant, review_due_on=TODAY, status=IcpVersion.Status.RETIRED)

    assert icp_review_reminders_send(today=TODAY)["sent"] == 0


def test_reminder_task_sends(tenant, recipients):
    active_version(tenant, review_due_on=datetime.date(2020, 1, 1))

    counts = send_icp_review_reminders_task.delay().get()

    assert counts["sent"] == 1
    assert len(mail.outbox) == 1


def test_beat_schedules_reminder_task():
    entry = settings.CELERY_BEAT_SCHEDULE["send-icp-review-reminders"]

    assert entry["task"] == send_icp_review_reminders_task.name
    assert "icp.review_tasks" in settings.CELERY_IMPORTS


@pytest.mark.parametrize("days", [6, 731, 0, -5, "90", 90.0, True, None])
def test_review_days_setting_rejects(tenant, days):
    with pytest.raises(DomainError) as caught:
        tenant_icp_review_days_set(tenant=tenant, days=days)

    assert caught.value.field == "icp_review_days"
    assert caught.value.value == days
    assert "7 to 730" in caught.value.fix
    tenant.refresh_from_db()
    assert tenant.icp_review_days == 90


@pytest.mark.parametrize("days", [7, 730])
def test_review_days_setting_accepts_bounds(tenant, admin_user, days):
    tenant_icp_review_days_set(tenant=tenant, days=days, actor=admin_user)

    tenant.refresh_from_db()
    assert tenant.icp_review_days == days
    with tenant_scope(tenant):
        event = AuditEvent.objects.get(event="tenant.icp_review_days_set")
    assert event.before == {"icp_review_days": 90}
    assert event.after == {"icp_review_days": days}


def test_review_days_setting_keeps_due_date(tenant, admin_user):
    version = active_version(tenant, review_due_on=TODAY)

    tenant_icp_review_days_set(tenant=tenant, days=30, actor=admin_user)

    with tenant_scope(tenant):
        version.refresh_from_db()
    assert version.review_due_on == TODAY


def test_review_days_unchanged_writes_no_audit(tenant, admin_user):
    tenant_icp_review_days_set(tenant=tenant, days=90, actor=admin_user)

    with tenant_scope(tenant):
        assert not AuditEvent.objects.filter(event="tenant.icp_review_days_set").exists()
