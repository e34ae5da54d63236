"""Each fraud rule at its threshold and one below it."""

from __future__ import annotations

import datetime

import pytest

from attribution.fraud.rules.bursts import footprintless_burst_signals, off_profile_burst_signals
from attribution.fraud.rules.click_flood import click_flood_signals, click_spike_signals
from attribution.fraud.rules.duplicates import (
    company_name_key,
    duplicate_registration_signals,
    linked_partner_signals,
)
from attribution.fraud.rules.self_referral import self_referral_signals
from attribution.fraud.thresholds import (
    CLICK_FLOOD_MAX_CLICKS,
    CLICK_SPIKE_MIN_CLICKS,
    FOOTPRINTLESS_MIN_BARE,
    FOOTPRINTLESS_MIN_UNKNOWN,
    LINKED_MIN_SHARED_IPS,
    OFF_PROFILE_MIN_REGISTRATIONS,
)
from attribution.models import FraudSignal, Referral
from tenancy.models import Membership
from tests.attribution.fraud.conftest import T0, clicks_add, minutes, rule_input
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    PartnerFactory,
    ReferralFactory,
    UserFactory,
)

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def partner_user(partner, email: str):
    user = UserFactory(username=email, email=email)
    MembershipFactory(
        tenant_id=partner.tenant_id, user=user, role=Membership.Role.PARTNER, partner=partner
    )
    return user


# Self-referral


def test_self_referral_by_partner_domain(partner):
    referral = ReferralFactory(partner=partner, domain="northwind.com")
    ReferralFactory(partner=partner, domain="contoso.com")

    signals = self_referral_signals(rule_input(partner))

    assert len(signals) == 1
    signal = signals[0]
    assert signal.kind == FraudSignal.Kind.SELF_REFERRAL
    assert signal.referral_id == referral.pk
    assert signal.idempotency_key == f"self_referral:referral:{referral.pk}"
    assert "the partner's own domain" in signal.summary
    assert signal.details["matches"] == [
        {"on": "domain", "source": "partner_domain", "value": "northwind.com"}
    ]


def test_self_referral_by_user_email_domain(partner):
    partner_user(partner, "jo@northwind-partners.io")
    by_domain = ReferralFactory(partner=partner, domain="northwind-partners.io")
    by_contact = ReferralFactory(
        partner=partner, domain="fabrikam.com", contact_email="Buyer@Mail.Northwind-Partners.io"
    )

    signals = {signal.referral_id: signal for signal in self_referral_signals(rule_input(partner))}

    assert set(signals) == {by_domain.pk, by_contact.pk}
    assert "partner users' e-mail domain" in signals[by_domain.pk].summary
    assert signals[by_contact.pk].details["matches"] == [
        {"on": "contact_domain", "source": "user_email_domain", "value": "northwind-partners.io"}
    ]


def test_self_referral_ignores_free_mail_domains(partner):
    partner_user(partner, "jo@gmail.com")
    ReferralFactory(partner=partner, domain="gmail.com")
    ReferralFactory(partner=partner, domain="fabrikam.com", contact_email="someone@gmail.com")

    assert self_referral_signals(rule_input(partner)) == []


def test_self_referral_by_users_own_free_mail_address(partner):
    partner_user(partner, "jo@gmail.com")
    referral = ReferralFactory(partner=partner, domain="fabrikam.com", contact_email="JO@gmail.com")

    signals = self_referral_signals(rule_input(partner))

    assert [signal.referral_id for signal in signals] == [referral.pk]
    assert signals[0].details["matches"] == [
        {"on": "contact_email", "source": "user_email", "value": "jo@gmail.com"}
    ]


def test_self_referral_skips_rejected_and_other_partners(partner):
    other = PartnerFactory(domain="contoso.com")
    ReferralFactory(partner=partner, domain="northwind.com", status=Referral.Status.REJECTED)
    ReferralFactory(partner=other, domain="northwind.com")

    assert self_referral_signals(rule_input(partner, other)) == []


def test_self_referral_since_skips_older_rows(partner):
    ReferralFactory(partner=partner, domain="northwind.com", registered_at=T0)
    Referral.objects.update(created_at=T0)

    assert self_referral_signals(rule_input(partner, since=T0 + DAY)) == []
    assert len(self_referral_signals(rule_input(partner, since=T0))) == 1


# Click flood from one source


@pytest.mark.parametrize(("clicks", "flagged"), [(CLICK_FLOOD_MAX_CLICKS + 1, 1), (30, 0)])
def test_click_flood_from_one_address(partner, clicks, flagged):
    # Spread over exactly 10 minutes, both ends included.
    times = minutes(T0, clicks, step=10 / (clicks - 1))
    clicks_add(partner, times, ip_hash="a" * 64)

    signals = click_flood_signals(rule_input(partner))

    assert len(signals) == flagged
    if flagged:
        signal = signals[0]
        assert signal.kind == FraudSignal.Kind.CLICK_FLOOD
        assert signal.referral_id is None
        assert signal.details["source_kind"] == "ip_hash"
        assert signal.details["peak_clicks"] == CLICK_FLOOD_MAX_CLICKS + 1
        # The 31st click, at 09:10, is the one over the threshold.
        assert signal.idempotency_key == f"click_flood:ip:{partner.pk}:2026-03-02T09:10:{'a' * 64}"
        assert len(signal.idempotency_key) <= 120


def test_click_flood_needs_the_clicks_inside_the_window(partner):
    # 31 clicks over 10.5 minutes: no 10-minute span contains more than 30.
    clicks_add(partner, minutes(T0, 31, step=10.5 / 30), ip_hash="b" * 64)

    assert click_flood_signals(rule_input(partner)) == []


def test_click_flood_from_one_visitor(partner):
    clicks_add(partner, minutes(T0, CLICK_FLOOD_MAX_CLICKS + 1, step=0.1), visitor_id="v-1")

    signals = click_flood_signals(rule_input(partner))

    assert len(signals) == 1
    assert signals[0].details["source_kind"] == "visitor_id"
    assert signals[0].details["source"] == "v-1"


def test_click_flood_one_signal_per_period(partner):
    # Two bursts 30 minutes apart fall in two 10-minute periods.
    clicks_add(partner, minutes(T0, 40, step=0.1), ip_hash="c" * 64)
    clicks_add(partner, minutes(T0 + 30 * datetime.timedelta(minutes=1), 40, step=0.1),
               ip_hash="c" * 64)  # fmt: skip

    signals = click_flood_signals(rule_input(partner))

    assert sorted(signal.details["period_start"] for signal in signals) == [
        "2026-03-02T09:00:00+00:00",
        "2026-03-02T09:30:00+00:00",
    ]


def test_click_flood_separates_partners(partner):
    other = PartnerFactory()
    clicks_add(partner, minutes(T0, 20, step=0.1), ip_hash="d" * 64)
    clicks_add(other, minutes(T0, 20, step=0.1), ip_hash="d" * 64)

    assert click_flood_signals(rule_input(partner, other)) == []


# Hourly click spike


@pytest.mark.parametrize(
    ("clicks", "flagged"), [(CLICK_SPIKE_MIN_CLICKS + 1, 1), (CLICK_SPIKE_MIN_CLICKS, 0)]
)
def test_click_spike_floor_without_history(partner, clicks, flagged):
    clicks_add(partner, minutes(T0, clicks, step=0.5))

    signals = click_spike_signals(rule_input(partner))

    assert len(signals) == flagged
    if flagged:
        assert signals[0].details["baseline_median"] == 0
        assert (
            signals[0].idempotency_key == f"click_flood:spike:partner:{partner.pk}:2026-03-02T09:00"
        )


@pytest.mark.parametrize(("clicks", "flagged"), [(121, 1), (120, 0)])
def test_click_spike_against_median(partner, clicks, flagged):
    # 12 clicks in each of the 168 hours before: the threshold is 10 × 12 = 120.
    baseline = [
        T0 - HOUR * hour + datetime.timedelta(minutes=5 * index)
        for hour in range(1, 169)
        for index in range(12)
    ]
    clicks_add(partner, baseline)
    clicks_add(partner, minutes(T0, clicks, step=0.45))

    signals = click_spike_signals(rule_input(partner))

    assert len(signals) == flagged
    if flagged:
        assert signals[0].details["baseline_median"] == 12
        assert signals[0].details["clicks"] == clicks


def test_click_spike_since_reads_baseline_before_it(partner):
    baseline = [T0 - HOUR * hour for hour in range(1, 169) for _ in range(12)]
    clicks_add(partner, baseline)
    clicks_add(partner, minutes(T0, 115, step=0.5))

    # The baseline before `since` still counts, so 115 clicks are no spike.
    assert click_spike_signals(rule_input(partner, since=T0)) == []


# Off-profile burst


def _registrations(partner, tiers: str, *, start=T0, step=HOUR, **values) -> list[Referral]:
    """Register one company per letter of `tiers`, an hour apart; "-" is no tier."""
    return [
        ReferralFactory(
            partner=partner,
            registered_at=start + step * index,
            fit_tier=tier.replace("-", ""),
            **values,
        )
        for index, tier in enumerate(tiers)
    ]


@pytest.mark.parametrize(
    ("tiers", "flagged"),
    [
        ("CCCCCCDDDDDD" + "AAAAABBB", 1),  # 20 registrations, 12 off profile: 60 %
        ("CCCCCCDDDDD" + "AAAAABBBB", 0),  # 20 registrations, 11 off profile: 55 %
        ("CCCCCCDDDDDD" + "AAAAABB", 0),  # 19 registrations
    ],
)
def test_off_profile_burst_thresholds(partner, tiers, flagged):
    _registrations(partner, tiers)

    signals = off_profile_burst_signals(rule_input(partner))

    assert len(signals) == flagged
    if flagged:
        signal = signals[0]
        assert signal.kind == FraudSignal.Kind.OFF_PROFILE_BURST
        assert signal.details["registrations"] == OFF_PROFILE_MIN_REGISTRATIONS
        assert signal.details["off_profile"] == 12
        assert len(signal.details["off_profile_referral_ids"]) == 12
        assert signal.idempotency_key == f"off_profile_burst:partner:{partner.pk}:2026-02-26"


def test_off_profile_burst_needs_the_window(partner):
    # 20 registrations, all tier D, but 9 hours apart: 19 fit in any 7 days.
    _registrations(partner, "D" * 20, step=9 * HOUR)

    assert off_profile_burst_signals(rule_input(partner)) == []


def test_off_profile_burst_ignores_rejected(partner):
    _registrations(partner, "D" * 19)
    _registrations(partner, "D", status=Referral.Status.REJECTED)

    assert off_profile_burst_signals(rule_input(partner)) == []


# Footprintless burst


@pytest.mark.parametrize(
    ("unknown", "flagged"), [(FOOTPRINTLESS_MIN_UNKNOWN, 1), (FOOTPRINTLESS_MIN_UNKNOWN - 1, 0)]
)
def test_footprintless_burst_of_unknown_companies(partner, unknown, flagged):
    # Named registrations with a contact, so none of them is bare.
    _registrations(partner, "-" * unknown, company_name="Some Co", contact_email="a@b.io")
    # Companies in the CRM with firmographics do not count.
    for index in range(5):
        account = AccountFactory(domain=f"known{index}.com")
        ReferralFactory(partner=partner, domain=account.domain, account=account, registered_at=T0)

    signals = footprintless_burst_signals(rule_input(partner))

    assert len(signals) == flagged
    if flagged:
        assert signals[0].details["evidence"] == "unknown"
        assert signals[0].details["footprintless"] == FOOTPRINTLESS_MIN_UNKNOWN
        assert signals[0].details["registrations"] == FOOTPRINTLESS_MIN_UNKNOWN + 5


def test_footprintless_counts_accounts_without_firmographics(partner):
    for index in range(FOOTPRINTLESS_MIN_UNKNOWN):
        account = AccountFactory(
            domain=f"empty{index}.com", industry="", employees=None, annual_revenue=None, country=""
        )
        ReferralFactory(partner=partner, domain=account.domain, registered_at=T0, company_name="X")

    signals = footprintless_burst_signals(rule_input(partner))

    assert [signal.details["evidence"] for signal in signals] == ["unknown"]


@pytest.mark.parametrize(
    ("bare", "flagged"), [(FOOTPRINTLESS_MIN_BARE, 1), (FOOTPRINTLESS_MIN_BARE - 1, 0)]
)
def test_footprintless_burst_of_bare_registrations(partner, bare, flagged):
    _registrations(partner, "-" * bare)

    signals = footprintless_burst_signals(rule_input(partner))

    assert len(signals) == flagged
    if flagged:
        assert signals[0].details["evidence"] == "bare"
        assert signals[0].idempotency_key.startswith(
            f"footprintless_burst:bare:partner:{partner.pk}:"
        )


# Duplicate registrations


def test_company_name_key_normalises():
    assert company_name_key("The Acme, Inc.") == "acme"
    assert company_name_key("ACME inc") == "acme"
    assert company_name_key("Acme GmbH & Co. KG") == "acme gmbh and"
    assert company_name_key("Café Müller Ltd") == "cafe muller"
    assert company_name_key("Inc.") == ""


def test_duplicate_by_company_name(partner):
    first = ReferralFactory(partner=partner, domain="acme.com", company_name="Acme, Inc.",
                            registered_at=T0)  # fmt: skip
    second = ReferralFactory(partner=partner, domain="acme.io", company_name="ACME inc",
                             registered_at=T0 + HOUR)  # fmt: skip
    ReferralFactory(partner=partner, domain="globex.com", company_name="Globex")

    signals = duplicate_registration_signals(rule_input(partner))

    assert len(signals) == 1
    signal = signals[0]
    assert signal.referral_id == second.pk
    assert signal.idempotency_key == f"duplicate_registration:name:referral:{second.pk}"
    assert signal.details["earlier"] == [{"referral_id": first.pk, "domain": "acme.com"}]


def test_duplicate_by_contact_email(partner):
    ReferralFactory(partner=partner, domain="one.com", contact_email="Pat@agency.io",
                    registered_at=T0)  # fmt: skip
    second = ReferralFactory(partner=partner, domain="two.com", contact_email="pat@agency.io",
                             registered_at=T0 + HOUR)  # fmt: skip

    signals = duplicate_registration_signals(rule_input(partner))

    assert [(signal.referral_id, signal.details["evidence"]) for signal in signals] == [
        (second.pk, "email")
    ]


def test_duplicate_not_across_partners(partner):
    other = PartnerFactory()
    ReferralFactory(partner=partner, domain="acme.com", company_name="Acme")
    ReferralFactory(partner=other, domain="acme.io", company_name="Acme")

    assert duplicate_registration_signals(rule_input(partner, other)) == []


def test_linked_partners_by_shared_email_domain(partner):
    other = PartnerFactory(name="Contoso Partners")
    partner_user(partner, "a@contoso-group.com")
    partner_user(other, "b@contoso-group.com")
    ReferralFactory(partner=other, domain="target.com", registered_at=T0)
    later = ReferralFactory(partner=partner, domain="target.com", registered_at=T0 + HOUR,
                            status=Referral.Status.CONFLICT)  # fmt: skip

    signals = linked_partner_signals(rule_input(partner, other))

    assert [signal.referral_id for signal in signals] == [later.pk]
    assert signals[0].details["linked"][0]["shared_domains"] == ["contoso-group.com"]
    assert "Contoso Partners" in signals[0].summary


def test_unlinked_partners_same_domain(partner):
    other = PartnerFactory()
    partner_user(partner, "a@gmail.com")
    partner_user(other, "b@gmail.com")
    ReferralFactory(partner=other, domain="target.com", registered_at=T0)
    ReferralFactory(partner=partner, domain="target.com", registered_at=T0 + HOUR)

    assert linked_partner_signals(rule_input(partner, other)) == []


@pytest.mark.parametrize(
    ("shared", "flagged"), [(LINKED_MIN_SHARED_IPS, 1), (LINKED_MIN_SHARED_IPS - 1, 0)]
)
def test_linked_partners_by_shared_click_addresses(partner, shared, flagged):
    other = PartnerFactory()
    for index in range(shared):
        address = f"{index:x}".rjust(64, "e")
        clicks_add(partner, [T0 - DAY], ip_hash=address)
        clicks_add(other, [T0 - 2 * DAY], ip_hash=address)
    # Shared before the 30-day lookback: not counted.
    clicks_add(partner, [T0 - 40 * DAY], ip_hash="f" * 64)
    clicks_add(other, [T0 - 40 * DAY], ip_hash="f" * 64)
    ReferralFactory(partner=other, domain="target.com", registered_at=T0 - DAY)
    ReferralFactory(partner=partner, domain="target.com", registered_at=T0)

    signals = linked_partner_signals(rule_input(partner, other))

    assert len(signals) == flagged
    if flagged:
        assert signals[0].details["linked"][0]["shared_ip_hashes"] == shared
