"""The data migration that turns account referrers into approved registrations."""

from __future__ import annotations

import datetime
import importlib
from types import SimpleNamespace

from django.apps import apps
from django.db import connection

from attribution.models import Referral, Touch
from tests.factories import AccountFactory

migration = importlib.import_module(
    "attribution.migrations.0003_registrations_from_account_referrals"
)


def run_migration() -> None:
    migration.registrations_from_account_referrals(apps, SimpleNamespace(connection=connection))


def test_referrers_become_registrations(scoped, partner):
    scoped.time_zone = "Europe/Berlin"
    scoped.attribution_window_days = 100
    scoped.save()
    referred = AccountFactory(
        tenant=scoped,
        domain="acme.com",
        referred_by=partner,
        referred_at=datetime.date(2017, 1, 1),
        fit_tier="B",
        fit_score=55,
    )
    AccountFactory(
        tenant=scoped, domain="", referred_by=partner, referred_at=datetime.date(2017, 1, 1)
    )
    AccountFactory(tenant=scoped, domain="undated.com", referred_by=partner)

    run_migration()
    run_migration()

    referral = Referral.objects.get()
    touch = Touch.objects.get()
    assert referral.account == referred
    assert referral.partner == partner
    assert referral.status == Referral.Status.APPROVED
    assert referral.registered_at == datetime.datetime(2016, 12, 31, 23, tzinfo=datetime.UTC)
    assert referral.expires_on == datetime.date(2017, 4, 11)
    assert (referral.fit_tier, referral.fit_score) == ("B", 55)
    assert touch.idempotency_key == f"registration:{referral.pk}"
    assert touch.touched_at == referral.registered_at
