"""Self-referral: a partner registering its own organisation as a customer.

A registration counts when any of these holds, compared with the partner's
organisation domains (see `attribution.fraud.identities`):

- its domain is one of them;
- its contact e-mail's host is one of them or a subdomain of one;
- its contact e-mail is a partner user's own address (free mail included).

Rejected registrations are skipped. One signal per registration, keyed
`self_referral:referral:<id>`.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import connection

from attribution.fraud.identities import PARTNER_DOMAIN, partner_identities
from attribution.fraud.rules.base import RuleInput
from attribution.fraud.signals import SignalCandidate
from attribution.models import FraudSignal, Referral

# Why a registration matched, by (what matched, where the partner's value comes from).
REASONS = {
    ("domain", PARTNER_DOMAIN): "the registered domain is the partner's own domain",
    ("domain", "user_email_domain"): "the registered domain is the partner users' e-mail domain",
    ("contact_domain", PARTNER_DOMAIN): "the contact e-mail is at the partner's own domain",
    ("contact_domain", "user_email_domain"): "the contact e-mail is at the partner users' "
    "e-mail domain",
    ("contact_email", "user_email"): "the contact e-mail is a partner user's own address",
}

MATCHES_SQL = """
    WITH org(partner_id, domain, source) AS (
            SELECT * FROM unnest(%(org_partners)s::bigint[], %(org_domains)s::text[],
                                 %(org_sources)s::text[])),
         address(partner_id, email) AS (
            SELECT * FROM unnest(%(address_partners)s::bigint[], %(address_emails)s::text[])),
         registration AS (
            SELECT r.id, r.partner_id, r.domain, lower(r.contact_email) AS email,
                   split_part(lower(r.contact_email), '@', 2) AS email_host
              FROM attribution_referral AS r
             WHERE r.tenant_id = %(tenant_id)s AND r.partner_id = ANY(%(partner_ids)s)
               AND r.status <> %(rejected)s {since})
    SELECT r.id, 'domain', org.source, org.domain
      FROM registration AS r
      JOIN org ON org.partner_id = r.partner_id AND org.domain = r.domain
    UNION ALL
    SELECT r.id, 'contact_domain', org.source, org.domain
      FROM registration AS r
      JOIN org ON org.partner_id = r.partner_id
       AND (r.email_host = org.domain
            OR right(r.email_host, length(org.domain) + 1) = '.' || org.domain)
    UNION ALL
    SELECT r.id, 'contact_email', 'user_email', address.email
      FROM registration AS r
      JOIN address ON address.partner_id = r.partner_id AND address.email = r.email
"""
SINCE_SQL = "AND (r.registered_at >= %(since)s OR r.created_at >= %(since)s)"


def self_referral_signals(scan: RuleInput) -> list[SignalCandidate]:
    """Return one signal per registration of the partner's own organisation."""
    identities = partner_identities(tenant_id=scan.tenant_id, partner_ids=scan.partner_ids)
    org_rows = [
        (partner_id, domain, source)
        for partner_id, identity in identities.items()
        for domain, sources in identity.domains.items()
        for source in sorted(sources)
    ]
    address_rows = [
        (partner_id, email)
        for partner_id, identity in identities.items()
        for email in sorted(identity.emails)
    ]
    if not org_rows and not address_rows:
        return []

    params = {
        "org_partners": [row[0] for row in org_rows],
        "org_domains": [row[1] for row in org_rows],
        "org_sources": [row[2] for row in org_rows],
        "address_partners": [row[0] for row in address_rows],
        "address_emails": [row[1] for row in address_rows],
        "tenant_id": scan.tenant_id,
        "partner_ids": list(scan.partner_ids),
        "rejected": Referral.Status.REJECTED,
        "since": scan.since,
    }
    sql = MATCHES_SQL.format(since=SINCE_SQL if scan.since is not None else "")
    matches: dict[int, list[dict]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for referral_id, matched_on, source, value in cursor.fetchall():
            matches[referral_id].append({"on": matched_on, "source": source, "value": value})
    if not matches:
        return []

    referrals = Referral.objects.filter(pk__in=list(matches)).values(
        "id", "partner_id", "domain", "company_name", "contact_email"
    )
    return [_candidate(referral, matches[referral["id"]]) for referral in referrals]


def _candidate(referral: dict, matches: list[dict]) -> SignalCandidate:
    matches = sorted(matches, key=lambda match: (match["on"], match["source"], match["value"]))
    reasons = list(dict.fromkeys(REASONS[(match["on"], match["source"])] for match in matches))
    values = ", ".join(sorted({match["value"] for match in matches}))
    return SignalCandidate(
        kind=FraudSignal.Kind.SELF_REFERRAL,
        partner_id=referral["partner_id"],
        referral_id=referral["id"],
        idempotency_key=f"self_referral:referral:{referral['id']}",
        summary=f"Self-referral of {referral['domain']}: {'; '.join(reasons)} ({values}).",
        details={
            "domain": referral["domain"],
            "company_name": referral["company_name"],
            "contact_email": referral["contact_email"],
            "matches": matches,
        },
    )
