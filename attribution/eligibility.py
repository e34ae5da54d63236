"""Whether a partner may register a company: a read that writes nothing.

The checks run in this order, and the first that applies decides:

1. the partner registered the domain before: its registration is returned;
2. `customer`: the account has a won deal and has not churned since;
3. `open_deal`: the account has an open deal that is not credited to this partner;
4. `registered`: another partner has an approved registration whose `expires_on`
   is today or later (in the tenant's time zone);
5. otherwise the company is eligible, also when the tenant has no account for it.

Partner users never learn which partner holds a registration, and no one learns
deal amounts here. `referral_register` runs the same check under the domain lock.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field

from django.db.models import Q
from django.db.models.functions import Coalesce, TruncDate

from attribution.models import Referral
from crm.models import Account, Deal
from partners.models import Partner
from tenancy.models import Tenant

ELIGIBLE = "eligible"
CONFLICT = "conflict"
# The same partner registered the domain before.
REGISTERED_BY_YOU = "registered_by_you"
ELIGIBILITY_STATUSES = (ELIGIBLE, CONFLICT, REGISTERED_BY_YOU)

# Keys of `Eligibility.detail` that partners never see: the holder of a registration
# and the id of the tenant's deal.
# Partners never see which other partner registered a company, or when.
HIDDEN_FROM_PARTNERS = (
    "referral_id",
    "partner_id",
    "partner_name",
    "deal_id",
    "holder_registered_on",
    "holder_expires_on",
)


def detail_for_viewer(detail: dict, *, reveal_holder: bool) -> dict:
    """Return conflict facts for staff (`reveal_holder`) or without the hidden keys for partners."""
    if reveal_holder:
        return dict(detail)
    return {key: value for key, value in detail.items() if key not in HIDDEN_FROM_PARTNERS}


@dataclass(frozen=True)
class Eligibility:
    """The outcome of checking one domain for one partner (or for staff, without one)."""

    domain: str
    status: str
    # A Referral.Conflict value when `status` is CONFLICT, else "".
    conflict: str = ""
    message: str = ""
    # The message for staff, which may name the holder of a registration.
    staff_message: str = ""
    account: Account | None = None
    # Facts behind a conflict or an own registration, such as dates; never amounts.
    detail: dict = field(default_factory=dict)
    # The partner's own earlier registration of the domain, when `status` is REGISTERED_BY_YOU.
    existing: Referral | None = None

    @property
    def is_eligible(self) -> bool:
        return self.status == ELIGIBLE

    @property
    def fit_tier(self) -> str:
        return self.account.fit_tier if self.account is not None else ""

    @property
    def fit_score(self) -> int | None:
        return self.account.fit_score if self.account is not None else None

    def as_dict(self, *, reveal_holder: bool) -> dict:
        """Return the result as API and template data; partners get no holder fields."""
        detail = detail_for_viewer(self.detail, reveal_holder=reveal_holder)
        account = self.account
        return {
            "domain": self.domain,
            "status": self.status,
            "eligible": self.is_eligible,
            "conflict": self.conflict,
            "message": self.staff_message if reveal_holder else self.message,
            "known_company": account is not None,
            "account_id": account.pk if account is not None else None,
            "account_name": account.name if account is not None else "",
            "fit_tier": self.fit_tier,
            "fit_score": self.fit_score,
            "detail": detail,
            "referral_id": self.existing.pk if self.existing is not None else None,
        }


def _iso(day: datetime.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def local_date(moment: datetime.datetime, tenant: Tenant) -> datetime.date:
    """Return the date of `moment` in the tenant's time zone."""
    return moment.astimezone(zoneinfo.ZoneInfo(tenant.time_zone)).date()


def registration_dates(referral: Referral, tenant: Tenant) -> tuple[datetime.date, datetime.date]:
    """Return the day of the registration in the tenant's time zone and its expiry day."""
    return local_date(referral.registered_at, tenant), referral.expires_on


def renewable(referral: Referral, tenant: Tenant) -> bool:
    """Return True when the partner may register the domain of `referral` again.

    An approved registration that expired, and a conflict, which may have cleared
    since, are checked afresh and renewed only when the company is eligible now.
    One in force stays as it is, and a rejection remains until a partner manager
    approves it.
    """
    if referral.status == Referral.Status.CONFLICT:
        return True
    return referral.status == Referral.Status.APPROVED and referral.expires_on < tenant.today()


def _own_registration(referral: Referral, tenant: Tenant, domain: str, account) -> Eligibility:
    registered_on, expires_on = registration_dates(referral, tenant)
    if referral.status == Referral.Status.APPROVED and expires_on < tenant.today():
        message = (
            f"Registered by you on {registered_on:%Y-%m-%d}; it expired on "
            f"{expires_on:%Y-%m-%d}, and a new registration is blocked by a conflict now."
        )
    elif referral.status == Referral.Status.APPROVED:
        message = (
            f"Already registered by you on {registered_on:%Y-%m-%d}, expires {expires_on:%Y-%m-%d}."
        )
    elif referral.status == Referral.Status.CONFLICT:
        message = (
            f"Already registered by you on {registered_on:%Y-%m-%d}; it is held for a "
            f"partner manager because of a conflict: {referral.get_conflict_display().lower()}."
        )
    else:
        message = (
            f"Already registered by you on {registered_on:%Y-%m-%d}; a partner manager rejected it."
        )
    return Eligibility(
        domain=domain,
        status=REGISTERED_BY_YOU,
        message=message,
        staff_message=message,
        account=account,
        detail={
            "referral_status": referral.status,
            "registered_on": _iso(registered_on),
            "expires_on": _iso(expires_on),
        },
        existing=referral,
    )


def _is_customer(account: Account, on: datetime.date) -> bool:
    """Return True when the account had won a deal by `on` and had not churned since."""
    won = Deal.objects.filter(account=account, stage=Deal.Stage.WON, close_date__lte=on)
    if account.churned_on is None or account.churned_on > on:
        return won.exists()
    # A win after the churn date makes the account a customer again.
    return won.filter(close_date__gt=account.churned_on).exists()


def _open_deal(account: Account, partner: Partner | None, on: datetime.date) -> Deal | None:
    """Return the latest deal that was open on `on` and is not credited to `partner`.

    A deal counts as open from its engage date (its creation date when it has
    none) until its close date, and an open deal until it closes.
    """
    started = Coalesce("engage_date", TruncDate("created_at"))
    deals = Deal.objects.annotate(started_on=started).filter(
        Q(stage=Deal.Stage.OPEN) | Q(close_date__gt=on), account=account, started_on__lte=on
    )
    if partner is not None:
        deals = deals.filter(Q(partner__isnull=True) | ~Q(partner=partner))
    return deals.order_by("-started_on", "-id").first()


def _holder(domain: str, partner: Partner | None, on: datetime.date, tenant) -> Referral | None:
    """Return the earliest approved registration of `domain` by another partner in force on `on`."""
    end_of_day = datetime.datetime.combine(
        on + datetime.timedelta(days=1), datetime.time(), tzinfo=zoneinfo.ZoneInfo(tenant.time_zone)
    )
    referrals = Referral.objects.filter(
        domain=domain,
        status=Referral.Status.APPROVED,
        registered_at__lt=end_of_day,
        expires_on__gte=on,
    )
    if partner is not None:
        referrals = referrals.exclude(partner=partner)
    return referrals.select_related("partner").order_by("registered_at", "id").first()


def eligibility_check(
    *,
    tenant: Tenant,
    domain: str,
    partner: Partner | None,
    on: datetime.date | None = None,
    renewing: bool = False,
) -> Eligibility:
    """Check whether `partner` may register `domain` (normalised); write nothing.

    `renewing` skips the partner's own earlier registration, for a renewal of an
    expired one or of a conflict that may have cleared.

    The check is for today in the tenant's time zone, or for the day `on` when a
    registration kept in another system is backdated. Then deals won by that day,
    deals open on it and registrations in force on it count. With `partner`
    None (a staff check), any open deal and any approved registration is a conflict.
    """
    day = on or tenant.today()
    account = Account.objects.filter(domain=domain).first()
    name = account.name if account is not None else domain

    def worded(template: str) -> dict:
        # Partners read the domain they typed and staff the account's name, so the
        # check never shows a partner the CRM's name for a company.
        return {
            "message": template.replace("{company}", domain),
            "staff_message": template.replace("{company}", name),
        }

    if partner is not None and not renewing:
        own = Referral.objects.filter(domain=domain, partner=partner).first()
        if own is not None:
            if renewable(own, tenant):
                fresh = eligibility_check(
                    tenant=tenant, domain=domain, partner=partner, on=on, renewing=True
                )
                if fresh.status == ELIGIBLE:
                    return fresh
            return _own_registration(own, tenant, domain, account)

    if account is not None and _is_customer(account, day):
        return Eligibility(
            domain=domain,
            status=CONFLICT,
            conflict=Referral.Conflict.CUSTOMER,
            **worded("{company} is already a customer, so it cannot be registered."),
            account=account,
            detail={"churned_on": _iso(account.churned_on)},
        )

    deal = _open_deal(account, partner, day) if account is not None else None
    if deal is not None:
        since = deal.started_on
        expected = f", expected to close {deal.close_date:%Y-%m-%d}" if deal.close_date else ""
        return Eligibility(
            domain=domain,
            status=CONFLICT,
            conflict=Referral.Conflict.OPEN_DEAL,
            **worded(
                f"{{company}} has an open deal in the pipeline since {since:%Y-%m-%d}{expected}, "
                "so it cannot be registered now."
            ),
            account=account,
            detail={
                "deal_id": deal.pk,
                "stage": deal.stage,
                "open_since": _iso(since),
                "expected_close_on": _iso(deal.close_date),
            },
        )

    holder = _holder(domain, partner, day, tenant)
    if holder is not None:
        registered_on, expires_on = registration_dates(holder, tenant)
        message = f"Another partner registered {domain}, so it cannot be registered now."
        staff_message = (
            f"{holder.partner.name} registered {name} on {registered_on:%Y-%m-%d}; "
            f"the registration holds until {expires_on:%Y-%m-%d}."
        )
        return Eligibility(
            domain=domain,
            status=CONFLICT,
            conflict=Referral.Conflict.REGISTERED,
            message=message,
            staff_message=staff_message,
            account=account,
            detail={
                "referral_id": holder.pk,
                "partner_id": holder.partner_id,
                "partner_name": holder.partner.name,
                "holder_registered_on": _iso(registered_on),
                "holder_expires_on": _iso(expires_on),
            },
        )

    if account is None:
        template = "{company} is an unknown company, not in the CRM yet, and it is eligible."
    else:
        template = (
            "{company} is eligible: no won deal, open deal or other partner's registration "
            "blocks it."
        )
    return Eligibility(domain=domain, status=ELIGIBLE, account=account, **worded(template))
