"""The attribution rule: first or last touch inside the window, and changing the rule."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from attribution.models import Referral, Touch
from attribution.rules import attribution_settings_set, deals_reattribute_all
from crm.models import Deal
from crm.pipeline import deals_attribute
from reporting.models import PartnerRollup
from tenancy.errors import DomainError
from tenancy.models import AuditEvent, Tenant
from tests.factories import (
    AccountFactory,
    DealFactory,
    TrackingLinkFactory,
    registration_create,
)

CLOSE = datetime.date(2026, 6, 30)


@pytest.fixture
def acme(scoped):
    return AccountFactory(tenant=scoped, name="Acme", domain="acme.com")


def at(day: datetime.date, hour: int = 12, tz: str = "UTC") -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=zoneinfo.ZoneInfo(tz))


def link_touch(partner, when: datetime.datetime, domain: str = "acme.com") -> Touch:
    return Touch.objects.create(
        partner=partner,
        domain=domain,
        kind=Touch.Kind.LINK,
        touched_at=when,
        idempotency_key=f"test:{partner.pk}:{when.isoformat()}:{Touch.objects.count()}",
    )


def credited(tenant, deal: Deal):
    deals_attribute(tenant=tenant, deal_ids=[deal.pk])
    deal.refresh_from_db()
    return deal.partner


def won_deal(tenant, account, close_date=CLOSE, **values):
    return DealFactory(
        tenant=tenant, account=account, stage=Deal.Stage.WON, close_date=close_date, **values
    )


def before(days: int) -> datetime.date:
    return CLOSE - datetime.timedelta(days=days)


@pytest.mark.parametrize(("rule", "winner"), [("first", "partner"), ("last", "rival")])
def test_rule_picks_first_or_last(scoped, acme, partner, rival, rule, winner):
    scoped.attribution_touch = rule
    link_touch(partner, at(before(100)))
    link_touch(rival, at(before(10)))
    deal = won_deal(scoped, acme)

    assert credited(scoped, deal) == {"partner": partner, "rival": rival}[winner]
    assert deal.source == Deal.Source.PARTNER


@pytest.mark.parametrize(("rule", "winner"), [("first", "partner"), ("last", "rival")])
def test_tie_goes_by_touch_id(scoped, acme, partner, rival, rule, winner):
    scoped.attribution_touch = rule
    same_time = at(before(5))
    link_touch(partner, same_time)
    link_touch(rival, same_time)
    deal = won_deal(scoped, acme)

    assert credited(scoped, deal) == {"partner": partner, "rival": rival}[winner]


def test_touch_exactly_window_days_before_counts(scoped, acme, partner):
    scoped.attribution_window_days = 30
    link_touch(partner, at(before(30), hour=0))
    deal = won_deal(scoped, acme)

    assert credited(scoped, deal) == partner


def test_touch_one_day_outside_window_ignored(scoped, acme, partner):
    scoped.attribution_window_days = 30
    link_touch(partner, at(before(31), hour=23))
    deal = won_deal(scoped, acme)

    assert credited(scoped, deal) is None
    assert deal.source == Deal.Source.DIRECT


def test_first_touch_outside_window_gives_way(scoped, acme, partner, rival):
    scoped.attribution_window_days = 30
    link_touch(partner, at(before(31)))
    link_touch(rival, at(before(29)))
    deal = won_deal(scoped, acme)

    assert credited(scoped, deal) == rival


def test_touch_on_close_date_counts(scoped, acme, partner):
    link_touch(partner, at(CLOSE, hour=23))
    deal = won_deal(scoped, acme)

    assert credited(scoped, deal) == partner


def test_touch_after_close_date_ignored(scoped, acme, partner, rival):
    scoped.attribution_touch = "last"
    link_touch(partner, at(before(3)))
    link_touch(rival, at(CLOSE + datetime.timedelta(days=1), hour=0))
    deal = won_deal(scoped, acme)

    assert credited(scoped, deal) == partner


def test_dates_are_in_tenant_time_zone(scoped, acme, partner):
    scoped.time_zone = "America/Los_Angeles"
    # 06:00 UTC on the day after closing is still the close date in Los Angeles.
    link_touch(partner, at(CLOSE + datetime.timedelta(days=1), hour=6))
    deal = won_deal(scoped, acme)

    assert credited(scoped, deal) == partner


@pytest.mark.parametrize(
    ("status", "counts"),
    [
        (Referral.Status.APPROVED, True),
        (Referral.Status.REJECTED, False),
        (Referral.Status.CONFLICT, False),
    ],
)
def test_only_approved_registrations_count(scoped, acme, partner, status, counts):
    referral = registration_create(partner, "acme.com", before(20))
    # A touch written while approved stays when the status changes later.
    Referral.objects.filter(pk=referral.pk).update(status=status)
    deal = won_deal(scoped, acme)

    assert credited(scoped, deal) == (partner if counts else None)


def test_rejected_registration_gives_way_to_link(scoped, acme, partner, rival):
    referral = registration_create(partner, "acme.com", before(20))
    Referral.objects.filter(pk=referral.pk).update(status=Referral.Status.REJECTED)
    link_touch(rival, at(before(5)))
    deal = won_deal(scoped, acme)

    assert credited(scoped, deal) == rival


def test_open_deal_without_close_date_uses_today(scoped, acme, partner, rival):
    scoped.attribution_window_days = 30
    today = scoped.today()
    link_touch(partner, at(today - datetime.timedelta(days=31)))
    link_touch(rival, at(today - datetime.timedelta(days=2)))
    deal = DealFactory(tenant=scoped, account=acme, stage=Deal.Stage.OPEN, close_date=None)

    assert credited(scoped, deal) == rival


def test_named_partner_wins(scoped, acme, partner, rival):
    link_touch(partner, at(before(10)))
    deal = won_deal(scoped, acme, partner=rival, partner_named=True)

    assert credited(scoped, deal) == rival


def test_booked_deal_never_changes(scoped, acme, partner):
    deal = won_deal(scoped, acme, pipeline_status=Deal.PipelineStatus.PROCESSED)
    link_touch(partner, at(before(10)))

    assert credited(scoped, deal) is None


def test_other_domains_touch_ignored(scoped, acme, partner):
    link_touch(partner, at(before(10)), domain="other.com")
    deal = won_deal(scoped, acme)

    assert credited(scoped, deal) is None


def test_account_without_domain_gets_no_credit(scoped, partner):
    account = AccountFactory(tenant=scoped, domain="")
    link_touch(partner, at(before(10)), domain="")
    deal = won_deal(scoped, account)

    assert credited(scoped, deal) is None


def test_reattribute_all_walks_chunks(scoped, acme, partner, rival):
    link_touch(partner, at(before(100)))
    link_touch(rival, at(before(10)))
    deals = [won_deal(scoped, acme) for _ in range(5)]
    deals_attribute(tenant=scoped, deal_ids=[deal.pk for deal in deals])
    Tenant.objects.filter(pk=scoped.pk).update(attribution_touch="last")

    count = deals_reattribute_all(tenant_id=scoped.pk, chunk_size=2)

    assert count == 5
    assert set(Deal.objects.values_list("partner_id", flat=True)) == {rival.pk}
    rollup = PartnerRollup.objects.get(partner=rival)
    assert rollup.won_deals == 5


def test_settings_change_reattributes_in_worker(
    scoped, acme, partner, rival, admin_user, django_capture_on_commit_callbacks
):
    link_touch(partner, at(before(100)))
    link_touch(rival, at(before(10)))
    deal = won_deal(scoped, acme)
    deals_attribute(tenant=scoped, deal_ids=[deal.pk])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        attribution_settings_set(tenant=scoped, attribution_touch="last", actor=admin_user)

    deal.refresh_from_db()
    assert len(callbacks) == 1
    assert deal.partner == rival
    event = AuditEvent.objects.get(event="tenant.attribution_settings_set")
    assert event.before == {"attribution_touch": "first"}
    assert event.after == {"attribution_touch": "last"}


def test_same_settings_write_nothing(scoped, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        attribution_settings_set(
            tenant=scoped, attribution_window_days=365, attribution_touch="first"
        )

    assert callbacks == []
    assert AuditEvent.objects.count() == 0


def test_new_window_moves_expiry_dates(scoped, partner):
    referral = registration_create(partner, "acme.com", datetime.date(2026, 1, 10))

    attribution_settings_set(tenant=scoped, attribution_window_days=90)

    referral.refresh_from_db()
    assert referral.expires_on == datetime.date(2026, 4, 10)


def test_link_hosts_only_change_no_reattribution(scoped, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        attribution_settings_set(tenant=scoped, link_domains=["https://www.Acme.com/", "acme.com"])

    scoped.refresh_from_db()
    assert scoped.link_domains == ["acme.com", "www.acme.com"]
    assert callbacks == []


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"attribution_window_days": 0}, "attribution_window_days"),
        ({"attribution_window_days": 1096}, "attribution_window_days"),
        ({"attribution_window_days": "30"}, "attribution_window_days"),
        ({"attribution_window_days": True}, "attribution_window_days"),
        ({"attribution_touch": "middle"}, "attribution_touch"),
        ({"link_domains": ["localhost"]}, "link_domains"),
        ({"link_domains": ["bad host.com"]}, "link_domains"),
        ({"link_domains": [f"h{n}.acme.com" for n in range(51)]}, "link_domains"),
    ],
)
def test_settings_errors_name_field(scoped, values, field):
    with pytest.raises(DomainError) as caught:
        attribution_settings_set(tenant=scoped, **{"attribution_touch": "last", **values})

    scoped.refresh_from_db()
    assert caught.value.field == field
    assert caught.value.fix
    assert scoped.attribution_touch == "first"


def test_link_hosts_from_text(scoped):
    attribution_settings_set(tenant=scoped, link_domains="acme.com\nshop.acme.com, acme.com")

    assert scoped.link_domains == ["acme.com", "shop.acme.com"]


@pytest.mark.parametrize("days", [1, 1095])
def test_window_bounds_accepted(scoped, days):
    attribution_settings_set(tenant=scoped, attribution_window_days=days)

    scoped.refresh_from_db()
    assert scoped.attribution_window_days == days


def test_link_hosts_keep_active_links(scoped, partner):
    attribution_settings_set(tenant=scoped, link_domains=["acme.com", "acme.io"])
    link = TrackingLinkFactory(partner=partner, destination="https://shop.acme.com/pricing")

    with pytest.raises(DomainError) as caught:
        attribution_settings_set(tenant=scoped, link_domains=["acme.io"])

    scoped.refresh_from_db()
    assert caught.value.field == "link_domains"
    assert "shop.acme.com" in caught.value.message
    assert scoped.link_domains == ["acme.com", "acme.io"]
    link.is_active = False
    link.save()
    attribution_settings_set(tenant=scoped, link_domains=[])
    scoped.refresh_from_db()
    assert scoped.link_domains == []
