"""Partner recruitment: the public application form and what a submission changes.

A company applies on the tenant's public page with its website, a contact and,
optionally, the companies it can introduce. The first application for a website
becomes a partner in status "applied" with that reach list, so the partner's
ICP-overlap score is computed before anyone decides to sign it. Later submissions
for the same website, and submissions for a partner the tenant already has, are
kept as history for the managers and change no partner.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q

from crm.domains import InvalidDomain, normalize_domain
from crm.freemail import is_personal_domain
from partners.models import Partner, PartnerApplication
from partners.reach import MAX_PUSH_ENTRIES, ReachPushResult, reach_push
from partners.services import partner_upsert
from partners.signup import signup_email_enqueue, signup_offered
from tenancy.errors import DomainError, FieldErrors
from tenancy.models import Tenant
from tenancy.services import audit_record, tenant_setting_write

logger = logging.getLogger(__name__)

MAX_COMPANY_NAME_LENGTH = 200
MAX_CONTACT_NAME_LENGTH = 200
MAX_MESSAGE_LENGTH = 2000
# Applications from one client address per tenant and hour; more get HTTP 429.
SUBMISSIONS_PER_HOUR = 5
# The audit trail's actor label for changes made by the public form.
ACTOR_LABEL = "application-form"


@dataclass
class ApplicationResult:
    application: PartnerApplication
    partner: Partner
    # True when the submission created the partner.
    created: bool
    # Counts of the reach list, or None when none was sent or it was not applied.
    reach: ReachPushResult | None


def client_hash(address: str) -> str:
    """Return a keyed SHA-256 of a client address, so the address itself is not stored."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()


def _text(value: str, *, field: str, maximum: int, required: bool, label: str) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(
            f"The {label} is missing.", field=field, value=value, fix=f"Enter the {label}."
        )
    if len(value) > maximum:
        raise DomainError(
            f"The {label} is {len(value):,} characters long.",
            field=field,
            value=value,
            fix=f"Shorten it to {maximum:,} characters or fewer.",
        )
    return value


def website_domain(website: str) -> str:
    """Return the registrable domain of an applicant's website, or raise DomainError."""
    try:
        domain = normalize_domain(website)
    except InvalidDomain:
        raise DomainError(
            "The website is not a valid web address.",
            field="website",
            value=website,
            fix="Enter your company's website, such as https://acme.com.",
        ) from None
    if is_personal_domain(domain):
        raise DomainError(
            f"{domain} is a consumer mail provider, not a company website.",
            field="website",
            value=website,
            fix="Enter your company's own website.",
        )
    return domain


def contact_email_check(value: str) -> str:
    """Return the contact address stripped, or raise DomainError when it is invalid."""
    value = (value or "").strip()
    try:
        validate_email(value)
    except ValidationError:
        raise DomainError(
            "The contact e-mail address is not valid.",
            field="contact_email",
            value=value,
            fix="Enter an address such as jane@acme.com.",
        ) from None
    return value


def reach_lines(text: str) -> list[str]:
    """Return the non-empty lines of a reach list, or raise DomainError when there are too many."""
    lines = [line.strip() for line in (text or "").splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > MAX_PUSH_ENTRIES:
        raise DomainError(
            f"The reach list has {len(lines):,} lines.",
            field="reach",
            value=len(lines),
            fix=f"Send at most {MAX_PUSH_ENTRIES:,} companies; the program can import more later.",
        )
    return lines


def _kind_check(kind: str) -> None:
    if kind not in Partner.Kind.values:
        raise DomainError(
            f"Unknown partner kind {kind!r}.",
            field="kind",
            value=kind,
            fix=f"Choose one of {', '.join(Partner.Kind.values)}.",
        )


@transaction.atomic
def applications_open_set(*, tenant: Tenant, is_open: bool, actor) -> Tenant:
    """Open or close the tenant's public application page, with an audit event."""
    return tenant_setting_write(
        tenant=tenant, field="applications_open", value=is_open, actor=actor
    )


def partner_apply(
    *,
    tenant: Tenant,
    company_name: str,
    website: str,
    contact_name: str,
    contact_email: str,
    kind: str,
    message: str = "",
    reach: str = "",
    client_address: str = "",
) -> ApplicationResult:
    """Record an application and create or update the applicant as an applied partner.

    The website's registrable domain identifies the applicant. A new domain creates
    an applied partner with the reach list, and a domain that a partner already has
    leaves that partner as it is. `reach` is the text of the form's reach list, one
    domain, URL or e-mail address per line; invalid and personal lines are skipped
    and counted. When `partners.signup.signup_offered` allows it, the contact
    address gets a sign-up link by e-mail after the commit.
    Raises FieldErrors listing every invalid field, before anything is written.
    """
    if not tenant.applications_open:
        raise DomainError(
            f"{tenant.name} does not take partner applications.",
            field="tenant",
            value=tenant.slug,
            fix="Ask the program's team for an invitation.",
        )
    errors: list[DomainError] = []

    def checked(check, *args, **kwargs):
        try:
            return check(*args, **kwargs)
        except DomainError as error:
            errors.append(error)
            return None

    company_name = checked(
        _text,
        company_name,
        field="company_name",
        maximum=MAX_COMPANY_NAME_LENGTH,
        required=True,
        label="company name",
    )
    domain = checked(website_domain, website)
    contact_name = checked(
        _text,
        contact_name,
        field="contact_name",
        maximum=MAX_CONTACT_NAME_LENGTH,
        required=True,
        label="contact name",
    )
    contact_email = checked(contact_email_check, contact_email)
    checked(_kind_check, kind)
    message = checked(
        _text, message, field="message", maximum=MAX_MESSAGE_LENGTH, required=False, label="message"
    )
    lines = checked(reach_lines, reach)
    if errors:
        raise FieldErrors(errors)

    with transaction.atomic():
        partner, created = _applicant_partner(
            tenant=tenant, domain=domain, company_name=company_name, kind=kind, message=message
        )
        reach_result = None
        if lines and created:
            reach_result = reach_push(
                partner=partner,
                entries=[{"domain": line} for line in lines],
                mode="replace",
                strict=False,
            )
        application = PartnerApplication.objects.create(
            tenant=tenant,
            partner=partner,
            company_name=company_name,
            domain=domain,
            contact_name=contact_name,
            contact_email=contact_email,
            kind=kind,
            message=message,
            reach_submitted=len(lines),
            reach_accepted=reach_result.accepted if reach_result else 0,
            reach_rejected=len(reach_result.errors) if reach_result else 0,
            client_hash=client_hash(client_address) if client_address else "",
        )
        if signup_offered(application=application):
            signup_email_enqueue(application=application)
        audit_record(
            tenant_id=tenant.pk,
            actor=ACTOR_LABEL,
            event="partner.applied",
            obj=partner,
            after={
                "application_id": application.pk,
                "domain": domain,
                "status": partner.status,
                "reach_submitted": len(lines),
            },
        )
    logger.info(
        "partner.applied tenant_id=%s partner_id=%s application_id=%s created=%s status=%s "
        "reach=%s signup=%s",
        tenant.pk,
        partner.pk,
        application.pk,
        created,
        partner.status,
        len(lines),
        application.signup_sent_at is not None,
    )
    return ApplicationResult(
        application=application, partner=partner, created=created, reach=reach_result
    )


def _applicant_partner(
    *, tenant: Tenant, domain: str, company_name: str, kind: str, message: str
) -> tuple[Partner, bool]:
    """Return the partner for the applicant's domain, created in status "applied" if new.

    An existing partner is returned unchanged. Nothing proves that the applicant
    speaks for the domain, so an anonymous form must not rename a partner, change
    its status or replace the reach list its managers curated.
    """
    # Locking the tenant row serialises applications of one tenant, so two quick
    # submissions for one website cannot both create a partner.
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
    external_id = f"apply-{domain}"
    existing = (
        Partner.objects.filter(Q(domain=domain) | Q(external_id=external_id)).order_by("pk").first()
    )
    if existing is not None:
        logger.info(
            "partner.application_for_existing tenant_id=%s partner_id=%s status=%s",
            tenant.pk,
            existing.pk,
            existing.status,
        )
        return existing, False
    return partner_upsert(
        tenant=tenant,
        external_id=external_id,
        name=company_name,
        actor=ACTOR_LABEL,
        kind=kind,
        domain=domain,
        description=message,
        status=Partner.Status.APPLIED,
    )
