"""Touches: a partner's registration of a company, or a link visitor who became one.

A click becomes a link touch only while its partner is active and no open or
confirmed click_flood signal is about it (`attribution.fraud.flooded`). The
conversion stays stored, so dismissing the signal writes the touches it blocked.
Reactivating a partner writes no touches by itself, but reporting the same
conversion again does.

Every write here is keyed by an idempotency key that is unique per tenant, so a
retry or a replay adds nothing: `registration:<referral id>` for a registration,
and a hash of visitor, domain and click id for a link touch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from attribution.clicks import VISITOR_ID
from attribution.domains import company_domain
from attribution.fraud.flooded import CLICK_NOT_BLOCKED_SQL, FLOODED_CLICK_SQL
from attribution.models import Click, FraudSignal, Referral, Touch, VisitorConversion
from attribution.rules import domains_reattribute
from partners.models import Partner
from tenancy.errors import DomainError
from tenancy.models import Tenant

logger = logging.getLogger(__name__)


def registration_touch_write(referral: Referral) -> bool:
    """Write the touch of an approved registration; return False when it exists already.

    The key holds the registration time, so a renewed registration gets a touch of
    its own next to the earlier one.
    """
    key = f"registration:{referral.pk}"
    if Touch.objects.filter(idempotency_key=key, touched_at=referral.registered_at).exists():
        return False
    _, created = Touch.objects.get_or_create(
        tenant_id=referral.tenant_id,
        idempotency_key=f"{key}:{referral.registered_at.timestamp():.0f}",
        defaults={
            "partner_id": referral.partner_id,
            "domain": referral.domain,
            "kind": Touch.Kind.REGISTRATION,
            "touched_at": referral.registered_at,
            "referral": referral,
        },
    )
    return created


# One link touch per click of the converted visitor up to the conversion time, keyed
# by "link:" and the SHA-256 of "<visitor id>|<domain>|<click id>". Clicks of a
# partner that is not active, and flooded clicks, are skipped.
LINK_TOUCHES_SQL = f"""
INSERT INTO attribution_touch (
    tenant_id, partner_id, domain, kind, touched_at, click_id, idempotency_key,
    created_at, updated_at
)
SELECT c.tenant_id, c.partner_id, v.domain, 'link', c.clicked_at, c.id,
       'link:' || encode(sha256(convert_to(c.visitor_id || '|' || v.domain || '|'
                                            || c.click_id, 'UTF8')), 'hex'),
       now(), now()
  FROM attribution_visitorconversion AS v
  JOIN attribution_click AS c
    ON c.tenant_id = v.tenant_id AND c.visitor_id = v.visitor_id
   AND c.clicked_at <= v.converted_at
  JOIN partners_partner AS p
    ON p.id = c.partner_id AND p.tenant_id = c.tenant_id
   AND p.status = '{Partner.Status.ACTIVE.value}'
 WHERE v.tenant_id = %(tenant_id)s AND {{where}} AND {CLICK_NOT_BLOCKED_SQL}
ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
RETURNING domain, partner_id
"""


def _link_touches_write(tenant_id: int, where: str, params: dict) -> list[tuple[str, int]]:
    """Insert link touches for the conversions and clicks matching `where`.

    Returns `(domain, partner_id)` of each touch written; existing touches are skipped.
    """
    with connection.cursor() as cursor:
        cursor.execute(LINK_TOUCHES_SQL.format(where=where), {"tenant_id": tenant_id, **params})
        return cursor.fetchall()


@dataclass
class ConversionResult:
    conversion: VisitorConversion
    created: bool
    # Clicks of the visitor found so far, and the touches this call wrote.
    clicks: int = 0
    touches_written: int = 0
    partner_ids: list[int] = field(default_factory=list)


def conversion_record(
    *, tenant: Tenant, visitor_id, company, field_name: str = "domain", reported_by: str = ""
) -> ConversionResult:
    """Record that link visitor `visitor_id` became the company `company` (domain, URL or e-mail).

    Each click of the visitor up to now becomes a link touch on the company's
    domain for the click's partner, dated at the click. Clicks still waiting in the
    queue become touches when the worker writes them. The account's deals that are
    not booked are attributed again. Reporting the same visitor and company again
    returns the stored conversion and writes nothing new.
    """
    if not isinstance(visitor_id, str) or not VISITOR_ID.match(visitor_id):
        raise DomainError(
            "The visitor_id is not a visitor id set by a tracking link.",
            field="visitor_id",
            value=visitor_id,
            fix="Send the t360_vid value the tracking link added to the landing page URL "
            "(8 to 40 letters, digits, '-' or '_').",
        )
    domain = company_domain(company, field=field_name)
    with transaction.atomic():
        conversion, created = VisitorConversion.objects.get_or_create(
            tenant=tenant,
            visitor_id=visitor_id,
            domain=domain,
            defaults={"converted_at": timezone.now(), "reported_by": reported_by[:100]},
        )
        clicks = Click.objects.filter(
            visitor_id=visitor_id, clicked_at__lte=conversion.converted_at
        ).count()
        written = _link_touches_write(
            tenant.pk, "v.id = %(conversion_id)s", {"conversion_id": conversion.pk}
        )
        domains = sorted({domain for domain, _ in written})
        if domains:
            domains_reattribute(tenant=tenant, domains=domains)
    partner_ids = sorted({partner_id for _, partner_id in written})
    logger.info(
        "conversion.recorded tenant_id=%s conversion_id=%s created=%s clicks=%s touches=%s",
        tenant.pk,
        conversion.pk,
        created,
        clicks,
        len(written),
    )
    return ConversionResult(
        conversion=conversion,
        created=created,
        clicks=clicks,
        touches_written=len(written),
        partner_ids=partner_ids,
    )


def touches_for_new_clicks(*, tenant: Tenant, click_ids: list[int]) -> set[int]:
    """Write link touches for freshly written clicks of visitors who converted already.

    Returns the partners that got a touch. The clicks' accounts are attributed again.
    """
    if not click_ids:
        return set()
    written = _link_touches_write(tenant.pk, "c.id = ANY(%(click_ids)s)", {"click_ids": click_ids})
    domains = sorted({domain for domain, _ in written})
    partner_ids = {partner_id for _, partner_id in written}
    if domains:
        domains_reattribute(tenant=tenant, domains=domains)
        logger.info(
            "conversion.late_clicks tenant_id=%s touches=%s domains=%s",
            tenant.pk,
            len(written),
            len(domains),
        )
    return partner_ids


def touches_for_released_clicks(*, signal: FraudSignal) -> set[int]:
    """Write the link touches that the dismissed click_flood `signal` blocked.

    Conversions reported while the signal was open are stored, so their flooded
    clicks become touches now, unless another open or confirmed signal still
    blocks them. Returns the partners that got a touch. The caller holds the
    tenant scope.
    """
    if signal.kind != FraudSignal.Kind.CLICK_FLOOD:
        return set()
    written = _link_touches_write(
        signal.tenant_id,
        "c.partner_id = %(partner_id)s AND EXISTS (SELECT 1 FROM attribution_fraudsignal AS f "
        f"WHERE f.id = %(signal_id)s AND {FLOODED_CLICK_SQL})",
        {"partner_id": signal.partner_id, "signal_id": signal.pk},
    )
    domains = sorted({domain for domain, _ in written})
    if domains:
        domains_reattribute(tenant=signal.tenant, domains=domains)
    logger.info(
        "conversion.flood_released tenant_id=%s signal_id=%s touches=%s domains=%s",
        signal.tenant_id,
        signal.pk,
        len(written),
        len(domains),
    )
    return {partner_id for _, partner_id in written}
