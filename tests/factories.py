"""factory_boy factories for the domain models; each takes an explicit tenant."""

from __future__ import annotations

import datetime
import zoneinfo
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from attribution.models import Click, FraudSignal, Referral, TrackingLink
from attribution.referrals import account_referrers_sync
from attribution.touches import registration_touch_write
from commissions.models import CommissionPlan
from crm.models import Account, Deal
from partners.models import Partner, ReachEntry
from tenancy.models import Membership, Tenant


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("pass-word-123")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.ADMIN


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    external_id = factory.Sequence(lambda n: f"acc-{n}")
    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.Sequence(lambda n: f"company{n}.com")
    industry = "software"
    employees = 500
    annual_revenue = Decimal("50000000.00")
    country = "US"


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    external_id = factory.Sequence(lambda n: f"partner-{n}")
    name = factory.Sequence(lambda n: f"Partner {n}")


class ReachEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReachEntry

    partner = factory.SubFactory(PartnerFactory)
    domain = factory.Sequence(lambda n: f"reach{n}.com")


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deal

    external_id = factory.Sequence(lambda n: f"deal-{n}")
    stage = Deal.Stage.WON
    amount = Decimal("1000.00")
    currency = "USD"
    close_date = datetime.date(2017, 6, 1)


class CommissionPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommissionPlan

    name = "Fit-weighted"
    base_rate = Decimal("0.1000")


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    partner = factory.SubFactory(PartnerFactory)
    domain = factory.Sequence(lambda n: f"referred{n}.com")
    registered_at = factory.LazyFunction(timezone.now)
    expires_on = factory.LazyAttribute(
        lambda referral: (referral.registered_at + datetime.timedelta(days=365)).date()
    )
    status = Referral.Status.APPROVED
    source = Referral.Source.PORTAL


class TrackingLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingLink

    partner = factory.SubFactory(PartnerFactory)
    code = factory.Sequence(lambda n: f"link{n}")
    destination = "https://example.com/pricing"


class ClickFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Click

    link = factory.SubFactory(TrackingLinkFactory, partner=factory.SelfAttribute("..partner"))
    partner = factory.SubFactory(PartnerFactory)
    clicked_at = factory.LazyFunction(timezone.now)
    visitor_id = factory.Sequence(lambda n: f"visitor-{n}")
    ip_hash = factory.Sequence(lambda n: f"{n:064x}")
    click_id = factory.Sequence(lambda n: f"click-{n}")


class FraudSignalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FraudSignal

    partner = factory.SubFactory(PartnerFactory)
    kind = FraudSignal.Kind.CLICK_FLOOD
    summary = "31 clicks from one network address within 10 minutes."
    idempotency_key = factory.Sequence(lambda n: f"test:signal:{n}")


def registration_create(
    partner, domain: str, registered_on: datetime.date, *, status=Referral.Status.APPROVED
) -> Referral:
    """Store a registration made at midnight of `registered_on` in the tenant's time zone.

    Skips the eligibility check of `referral_register`, so tests can set up history
    directly. An approved one gets its touch and becomes the account's referrer.
    """
    tenant = partner.tenant
    registered_at = datetime.datetime.combine(
        registered_on, datetime.time(), tzinfo=zoneinfo.ZoneInfo(tenant.time_zone)
    )
    referral = Referral.all_tenants.create(
        tenant=tenant,
        partner=partner,
        domain=domain,
        account=Account.all_tenants.filter(tenant=tenant, domain=domain).first(),
        registered_at=registered_at,
        expires_on=registered_on + datetime.timedelta(days=tenant.attribution_window_days),
        status=status,
        source=Referral.Source.IMPORT,
    )
    if status == Referral.Status.APPROVED:
        registration_touch_write(referral)
        account_referrers_sync(tenant=tenant, domains=[domain])
    return referral
