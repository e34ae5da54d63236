"""The fraud scan, its Celery tasks, its beat entry and its management command."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from attribution.fraud import scan as scan_module
from attribution.fraud.review import fraud_signal_dismiss
from attribution.fraud.scan import fraud_scan
from attribution.fraud_tasks import fraud_scan_recent_task, fraud_scan_task
from attribution.models import FraudSignal, Referral
from commissions.models import LedgerEntry
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tests.attribution.fraud.conftest import T0, clicks_add, entry_create, minutes
from tests.factories import AccountFactory, DealFactory, PartnerFactory, ReferralFactory


@pytest.fixture
def evidence(partner):
    """A self-referral with a pending entry on its account, and a click flood."""
    account = AccountFactory(domain="northwind.com")
    ReferralFactory(partner=partner, domain="northwind.com", registered_at=T0)
    entry = entry_create(partner, DealFactory(account=account, partner=partner))
    clicks_add(partner, minutes(T0, 31, step=0.1), ip_hash="a" * 64)
    return {"partner": partner, "entry": entry}


def test_scan_raises_signals_and_holds(evidence, scoped):
    result = fraud_scan(tenant=scoped)

    assert result.partners == 1
    assert dict(result.new_signals) == {"self_referral": 1, "click_flood": 1}
    assert result.entries_held == 1
    assert LedgerEntry.objects.get(pk=evidence["entry"].pk).status == LedgerEntry.Status.HELD
    events = AuditEvent.objects.filter(event="fraud_signal.raised")
    assert events.count() == 2
    assert {event.actor_label for event in events} == {"fraud-scan"}


def test_rescan_adds_nothing(evidence, scoped):
    fraud_scan(tenant=scoped)
    keys = set(FraudSignal.objects.values_list("idempotency_key", flat=True))

    again = fraud_scan(tenant=scoped)

    assert again.new_total == 0
    assert again.entries_held == 0
    assert set(FraudSignal.objects.values_list("idempotency_key", flat=True)) == keys
    assert AuditEvent.objects.filter(event="fraud_signal.raised").count() == 2


def test_dismissed_signal_is_not_raised_again(evidence, scoped, admin_user):
    fraud_scan(tenant=scoped)
    for signal in FraudSignal.objects.all():
        fraud_signal_dismiss(signal=signal, actor=admin_user, note="Checked.")

    again = fraud_scan(tenant=scoped)

    assert again.new_total == 0
    assert set(FraudSignal.objects.values_list("status", flat=True)) == {"dismissed"}
    assert LedgerEntry.objects.get(pk=evidence["entry"].pk).status == LedgerEntry.Status.PENDING


def test_scan_since_skips_older_evidence(evidence, scoped):
    Referral.objects.update(created_at=T0)

    later = fraud_scan(tenant=scoped, since=T0 + datetime.timedelta(days=1))
    assert later.new_total == 0

    from_t0 = fraud_scan(tenant=scoped, since=T0)
    assert dict(from_t0.new_signals) == {"self_referral": 1, "click_flood": 1}


def test_scan_only_given_partners(evidence, scoped, other_tenant):
    quiet = PartnerFactory()
    with tenant_scope(other_tenant):
        foreign = PartnerFactory(tenant=other_tenant)

    result = fraud_scan(tenant=scoped, partner_ids=[quiet.pk, foreign.pk])

    assert result.partners == 1
    assert result.new_total == 0


def test_scan_in_chunks(scoped, monkeypatch):
    monkeypatch.setattr(scan_module, "PARTNER_CHUNK_SIZE", 2)
    partners = [PartnerFactory(domain=f"own{index}.com") for index in range(5)]
    for partner in partners:
        ReferralFactory(partner=partner, domain=partner.domain)

    result = fraud_scan(tenant=scoped)

    assert result.partners == 5
    assert dict(result.new_signals) == {"self_referral": 5}


def test_scan_logs_start_and_finish(evidence, scoped, caplog):
    with caplog.at_level(logging.INFO, logger="attribution.fraud.scan"):
        fraud_scan(tenant=scoped)

    messages = [record.getMessage() for record in caplog.records]
    assert f"fraud_scan.started tenant_id={scoped.pk} partners=1 since=" in messages
    assert any(
        message.startswith(f"fraud_scan.finished tenant_id={scoped.pk} partners=1 new_signals=2")
        for message in messages
    )


def test_scan_task_scans_the_tenant(evidence, scoped):
    assert fraud_scan_task.run(scoped.pk) == 2
    assert fraud_scan_task.run(scoped.pk, [evidence["partner"].pk], T0.isoformat()) == 0


def test_scan_task_skips_missing_tenant(db):
    assert fraud_scan_task.run(999_999) == 0


def test_recent_task_scans_recently_active_partners(scoped, other_tenant):
    now = timezone.now()
    active = PartnerFactory()
    idle = PartnerFactory()
    clicks_add(
        active, minutes(now - datetime.timedelta(minutes=20), 31, step=0.1), ip_hash="b" * 64
    )
    # A flood two hours ago, from before RECENT_ACTIVITY, is left to the full scan.
    clicks_add(idle, minutes(now - datetime.timedelta(hours=2), 31, step=0.1), ip_hash="c" * 64)
    with tenant_scope(other_tenant):
        foreign = PartnerFactory(tenant=other_tenant)
        clicks_add(foreign, minutes(now - datetime.timedelta(minutes=20), 31, step=0.1),
                   ip_hash="d" * 64)  # fmt: skip

    assert fraud_scan_recent_task.run() == 2

    assert list(FraudSignal.objects.values_list("partner_id", flat=True)) == [active.pk]
    with tenant_scope(other_tenant):
        assert list(FraudSignal.objects.values_list("partner_id", flat=True)) == [foreign.pk]


def test_beat_runs_recent_scan_every_five_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["scan-fraud-recent-activity"]

    assert entry["task"] == fraud_scan_recent_task.name
    assert entry["schedule"] == datetime.timedelta(minutes=5)
    assert "attribution.fraud_tasks" in settings.CELERY_IMPORTS


def test_command_scans_and_reports(evidence, scoped, capsys):
    call_command("fraud_scan", "--tenant", scoped.slug)

    assert capsys.readouterr().out.strip() == (
        "Scanned 1 partner of acme: 2 new signals (click_flood 1, self_referral 1), "
        "1 commission entry held."
    )
    assert FraudSignal.objects.count() == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--tenant", "nobody"], "Tenant 'nobody' not found"),
        (["--tenant", "acme", "--days", "0"], "--days 0 is not a positive number"),
    ],
)
def test_command_rejects_bad_arguments(scoped, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("fraud_scan", *arguments)
