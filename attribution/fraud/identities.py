"""Which domains and e-mail addresses belong to a partner's own organisation.

A partner's organisation domains are its own domain (`Partner.domain`) and the
e-mail domains of its partner users (memberships with the partner role), in the
registrable form `crm.domains.normalize_domain` returns. Consumer mail domains
such as gmail.com are left out, because they say nothing about an organisation.
The users' own addresses are kept whole, free mail included.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from crm.domains import InvalidDomain, normalize_domain
from crm.freemail import is_personal_domain
from partners.models import Partner
from tenancy.models import Membership

# Where an organisation domain comes from, as signal details name it.
PARTNER_DOMAIN = "partner_domain"
USER_EMAIL_DOMAIN = "user_email_domain"


@dataclass
class PartnerIdentity:
    """A partner's organisation domains, each with where it comes from, and its users' addresses."""

    # Domain → the sources it comes from: PARTNER_DOMAIN and/or USER_EMAIL_DOMAIN.
    domains: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # Partner users' e-mail addresses, lower case.
    emails: set[str] = field(default_factory=set)


def organisation_domain(value: str) -> str | None:
    """Return the registrable domain of a domain or address, or None for free mail and junk."""
    if not value or not value.strip():
        return None
    try:
        domain = normalize_domain(value)
    except InvalidDomain:
        return None
    return None if is_personal_domain(domain) else domain


def partner_identities(*, tenant_id: int, partner_ids) -> dict[int, PartnerIdentity]:
    """Return the identity of each partner in `partner_ids`, with two queries.

    Runs in the tenant's scope; memberships are filtered by `tenant_id` by hand,
    because they have no scoped manager.
    """
    identities: dict[int, PartnerIdentity] = defaultdict(PartnerIdentity)
    partner_domains = Partner.objects.filter(pk__in=partner_ids)
    for partner_id, raw in partner_domains.exclude(domain="").values_list("pk", "domain"):
        domain = organisation_domain(raw)
        if domain:
            identities[partner_id].domains[domain].add(PARTNER_DOMAIN)

    users = Membership.objects.filter(
        tenant_id=tenant_id, role=Membership.Role.PARTNER, partner_id__in=partner_ids
    ).values_list("partner_id", "user__email")
    for partner_id, email in users:
        address = (email or "").strip().lower()
        if "@" not in address:
            continue
        identities[partner_id].emails.add(address)
        domain = organisation_domain(address)
        if domain:
            identities[partner_id].domains[domain].add(USER_EMAIL_DOMAIN)
    return dict(identities)
