"""Referral (deal) registration, its review by partner managers, and the account's referrer.

A registration is checked by `attribution.eligibility` inside a transaction that
takes a PostgreSQL advisory lock on (tenant, domain). When two partners register
one company at the same moment, exactly one is approved and the other gets the
`registered` conflict. Conflicting registrations are stored too, so
partner managers see them, but only approved ones count for attribution.

`Account.referred_by` and `referred_at` show the partner of the account's first
approved registration; every write here keeps them in step.
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone

from attribution.domains import company_domain
from attribution.eligibility import CONFLICT, ELIGIBLE, eligibility_check, renewable
from attribution.models import Referral
from attribution.rules import domains_reattribute
from attribution.touches import registration_touch_write
from crm.models import Account
from partners.models import Partner
from tenancy.errors import DomainError
from tenancy.models import Tenant
from tenancy.queue import enqueue_on_commit
from tenancy.services import actor_user, audit_record

logger = logging.getLogger(__name__)

# First key of the advisory lock on (tenant, domain); reporting's roll-up lock uses 36001.
DOMAIN_LOCK_CLASS = 36002
MAX_COMPANY_NAME_LENGTH = 255
MAX_NOTES_LENGTH = 5000
MAX_REVIEW_NOTE_LENGTH = 500


def domain_lock(tenant_id: int, domain: str) -> None:
    """Hold the tenant's lock on `domain` until the transaction ends.

    Registrations and reviews of one company take it, so each reads the other's
    committed row. Two domains whose hashes collide only wait for each other.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
            [DOMAIN_LOCK_CLASS, f"{tenant_id}:{domain}"],
        )


def _midnight(day: datetime.date, tenant: Tenant) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time(), tzinfo=zoneinfo.ZoneInfo(tenant.time_zone)
    )


def _text_check(value, *, field: str, max_length: int, label: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DomainError(
            f"The {label} is not text.", field=field, value=value, fix="Send it as a string."
        )
    value = value.strip()
    if len(value) > max_length:
        raise DomainError(
            f"The {label} is longer than {max_length} characters.",
            field=field,
            value=value,
            fix=f"Shorten it to at most {max_length} characters.",
        )
    return value


def _contact_email_check(value) -> str:
    email = _text_check(value, field="contact_email", max_length=254, label="contact e-mail")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise DomainError(
                f"{email!r} is not an e-mail address.",
                field="contact_email",
                value=email,
                fix="Give the contact's address, such as jane@acme.com, or leave it empty.",
            ) from None
    return email


def _partner_check(partner: Partner) -> None:
    if partner.status != Partner.Status.ACTIVE:
        raise DomainError(
            f"Partner {partner.name} is {partner.get_status_display().lower()}, and only "
            "active partners can register companies.",
            field="partner",
            value=partner.external_id,
            fix="Activate the partner first, or register the company for an active partner.",
        )


def _registered_on_check(registered_on: datetime.date | None, tenant: Tenant) -> None:
    if registered_on is not None and registered_on > tenant.today():
        raise DomainError(
            "A registration date cannot be in the future.",
            field="referred_at",
            value=registered_on.isoformat(),
            fix="Send the date the partner introduced the company, or leave it empty for now.",
        )


def _fraud_scan_enqueue(referral: Referral) -> None:
    """Scan the partner for fraud once the registration commits, as beat would within minutes.

    A self-referral or a burst is then held before the registered company's deals
    can book a pending commission.
    """
    from attribution.fraud.thresholds import RECENT_ACTIVITY
    from attribution.fraud_tasks import fraud_scan_task

    since = referral.registered_at - RECENT_ACTIVITY
    enqueue_on_commit(fraud_scan_task, referral.tenant_id, [referral.partner_id], since.isoformat())


def referral_register(
    *,
    partner: Partner,
    company,
    company_name: str = "",
    contact_email: str = "",
    notes: str = "",
    source: str,
    actor=None,
    registered_on: datetime.date | None = None,
    company_field: str = "domain",
) -> tuple[Referral, bool]:
    """Register `company` (a domain, URL or e-mail address) for `partner`.

    Returns `(referral, created)`. A new registration is APPROVED when the
    company is eligible, and stored as CONFLICT with the reason otherwise. When
    the partner registered the domain before, that registration is returned with
    `created` False and nothing changes. `registered_on` backdates a registration
    from another system to midnight of that day in the tenant's time zone; it is
    now otherwise. Raises DomainError naming the field for invalid input, for a
    partner that is not active and for a date in the future.
    """
    tenant = partner.tenant
    domain = company_domain(company, field=company_field)
    if source not in Referral.Source.values:
        raise ValueError(f"unknown referral source {source!r}")
    company_name = _text_check(
        company_name, field="company_name", max_length=MAX_COMPANY_NAME_LENGTH, label="company name"
    )
    contact_email = _contact_email_check(contact_email)
    notes = _text_check(notes, field="notes", max_length=MAX_NOTES_LENGTH, label="notes")
    _registered_on_check(registered_on, tenant)

    with transaction.atomic():
        domain_lock(tenant.pk, domain)
        existing = Referral.objects.filter(partner=partner, domain=domain).first()
        if existing is not None and not renewable(existing, tenant):
            logger.info(
                "referral.register_repeated tenant_id=%s partner_id=%s referral_id=%s",
                tenant.pk,
                partner.pk,
                existing.pk,
            )
            return existing, False
        _partner_check(partner)
        eligibility = eligibility_check(
            tenant=tenant,
            domain=domain,
            partner=partner,
            on=registered_on,
            renewing=existing is not None,
        )
        if existing is not None and eligibility.status != ELIGIBLE:
            # The conflict remains, or another one arose, so the stored row is kept.
            logger.info(
                "referral.register_repeated tenant_id=%s partner_id=%s referral_id=%s",
                tenant.pk,
                partner.pk,
                existing.pk,
            )
            return existing, False
        registered_at = (
            _midnight(registered_on, tenant) if registered_on is not None else timezone.now()
        )
        values = {
            # Only what the partner typed: the CRM's name for the company stays with staff.
            "company_name": company_name,
            "contact_email": contact_email,
            "notes": notes,
            "account": eligibility.account,
            "registered_at": registered_at,
            "expires_on": (
                registered_at.astimezone(zoneinfo.ZoneInfo(tenant.time_zone)).date()
                + datetime.timedelta(days=tenant.attribution_window_days)
            ),
            "status": (
                Referral.Status.APPROVED
                if eligibility.status == ELIGIBLE
                else Referral.Status.CONFLICT
            ),
            "conflict": eligibility.conflict if eligibility.status == CONFLICT else "",
            "conflict_detail": (
                {
                    **eligibility.detail,
                    "message": eligibility.message,
                    "staff_message": eligibility.staff_message,
                }
                if eligibility.status == CONFLICT
                else {}
            ),
            "fit_score": eligibility.fit_score,
            "fit_tier": eligibility.fit_tier,
            "source": source,
            "registered_by": actor_user(actor),
        }
        if existing is None:
            referral = Referral.objects.create(
                tenant=tenant, partner=partner, domain=domain, **values
            )
        else:
            # A renewal: the row keeps its id, and the earlier registration's touch
            # keeps counting for deals inside its own window.
            referral = existing
            for name, value in values.items():
                setattr(referral, name, value)
            referral.save()
        if referral.status == Referral.Status.APPROVED:
            _approved_effects(referral, tenant)
        _fraud_scan_enqueue(referral)
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            event="referral.registered",
            obj=referral,
            after={
                "partner_id": partner.pk,
                "domain": domain,
                "status": referral.status,
                "conflict": referral.conflict,
                "source": source,
                "registered_at": referral.registered_at.isoformat(),
            },
        )
    logger.info(
        "referral.registered tenant_id=%s partner_id=%s referral_id=%s domain=%s status=%s "
        "conflict=%s",
        tenant.pk,
        partner.pk,
        referral.pk,
        domain,
        referral.status,
        referral.conflict or "-",
    )
    return referral, True


def _approved_effects(referral: Referral, tenant: Tenant) -> None:
    """Write the registration's touch, the account's referrer and the deals' credit."""
    registration_touch_write(referral)
    account_referrers_sync(tenant=tenant, domains=[referral.domain])
    domains_reattribute(tenant=tenant, domains=[referral.domain])


def _note_check(note) -> str:
    note = _text_check(note, field="note", max_length=MAX_REVIEW_NOTE_LENGTH, label="note")
    if not note:
        raise DomainError(
            "A review needs a note.",
            field="note",
            value=note,
            fix="Say why, such as 'Introduced at the March event; the open deal is theirs'.",
        )
    return note


# The status each review decision sets.
REVIEWS = {"approve": Referral.Status.APPROVED, "reject": Referral.Status.REJECTED}


def referral_review(*, referral: Referral, decision: str, note, actor=None) -> Referral:
    """Approve or reject a registration with a note; return it as stored.

    Approving a conflicting or rejected registration writes its touch, so it counts
    from its registration time. Both decisions attribute the company's unbooked
    deals again and update the account's referrer. Repeating the current decision
    changes nothing. Raises DomainError for an empty note.
    """
    status = REVIEWS[decision]
    note = _note_check(note)
    tenant = referral.tenant
    with transaction.atomic():
        domain_lock(tenant.pk, referral.domain)
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.status == status:
            return locked
        before = locked.status
        locked.status = status
        locked.reviewed_by = actor_user(actor)
        locked.reviewed_at = timezone.now()
        locked.review_note = note
        locked.save(
            update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "updated_at"]
        )
        if status == Referral.Status.APPROVED:
            registration_touch_write(locked)
        account_referrers_sync(tenant=tenant, domains=[locked.domain])
        domains_reattribute(tenant=tenant, domains=[locked.domain])
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            event=f"referral.{status}",
            obj=locked,
            before={"status": before},
            after={"status": status, "note": note},
        )
    logger.info(
        "referral.reviewed tenant_id=%s referral_id=%s decision=%s before=%s",
        tenant.pk,
        locked.pk,
        decision,
        before,
    )
    return locked


def account_referrers_sync(*, tenant: Tenant, domains: list[str]) -> int:
    """Set the referrer of the accounts with `domains` from their first approved registration.

    An account whose domain has no approved registration gets no referrer.
    Returns how many accounts changed.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE crm_account AS a
               SET referred_by_id = first.partner_id,
                   referred_at = first.registered_on,
                   updated_at = now()
              FROM (SELECT a2.id, r.partner_id, r.registered_on
                      FROM crm_account AS a2
                      LEFT JOIN LATERAL (
                          SELECT r2.partner_id,
                                 (r2.registered_at AT TIME ZONE %(time_zone)s)::date
                                     AS registered_on
                            FROM attribution_referral AS r2
                           WHERE r2.tenant_id = a2.tenant_id AND r2.domain = a2.domain
                             AND r2.status = 'approved'
                           ORDER BY r2.registered_at, r2.id
                           LIMIT 1
                      ) AS r ON TRUE
                     WHERE a2.tenant_id = %(tenant_id)s AND a2.domain = ANY(%(domains)s)
                   ) AS first
             WHERE a.id = first.id
               AND (a.referred_by_id IS DISTINCT FROM first.partner_id
                    OR a.referred_at IS DISTINCT FROM first.registered_on)
            """,
            {"time_zone": tenant.time_zone, "tenant_id": tenant.pk, "domains": list(domains)},
        )
        return cursor.rowcount


def referrals_link_accounts(*, tenant: Tenant, account_ids: list[int]) -> int:
    """Link registrations to the accounts `account_ids` by domain, after an account import.

    Registrations of a domain that no account has any more lose their link, and
    the accounts' referrers follow their registrations. Returns how many
    registrations changed.
    """
    if not account_ids:
        return 0
    domains = list(
        Account.objects.filter(pk__in=account_ids)
        .exclude(domain="")
        .values_list("domain", flat=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE attribution_referral AS r
               SET account_id = (SELECT a.id FROM crm_account AS a
                                  WHERE a.tenant_id = r.tenant_id AND a.domain = r.domain),
                   updated_at = now()
             WHERE r.tenant_id = %(tenant_id)s
               AND (r.domain = ANY(%(domains)s) OR r.account_id = ANY(%(account_ids)s))
               AND r.account_id IS DISTINCT FROM (
                   SELECT a.id FROM crm_account AS a
                    WHERE a.tenant_id = r.tenant_id AND a.domain = r.domain)
            """,
            {"tenant_id": tenant.pk, "domains": domains, "account_ids": list(account_ids)},
        )
        changed = cursor.rowcount
    account_referrers_sync(tenant=tenant, domains=domains)
    return changed
