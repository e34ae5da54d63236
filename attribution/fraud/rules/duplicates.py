"""Duplicate registrations: one company registered several times, or by linked partners.

What counts, on registrations that are not rejected:

- Same partner, same company under another domain: the company name after
  `company_name_key` (case, accents, punctuation and legal forms such as "Inc" or
  "GmbH" removed) equals that of an earlier registration of the partner.
  Registrations without a company name are never compared by name.
- Same partner, same contact: the contact e-mail, compared in lower case, equals
  that of an earlier registration of the partner.
- Linked partners, same domain: another partner registered the domain earlier,
  and the two partners share an organisation domain (see
  `attribution.fraud.identities`), or their links' clicks share at least
  LINKED_MIN_SHARED_IPS distinct ip_hash values in the LINKED_CLICK_LOOKBACK
  before the later registration.

"Earlier" orders by registration time, then id. The signal is raised on each
later registration, keyed `duplicate_registration:<name|email|linked>:referral:<id>`,
and lists the earlier ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

from django.db import connection

from attribution.fraud.identities import partner_identities
from attribution.fraud.rules.base import RuleInput, iso, plural
from attribution.fraud.signals import SignalCandidate
from attribution.fraud.thresholds import LINKED_CLICK_LOOKBACK, LINKED_MIN_SHARED_IPS
from attribution.models import FraudSignal, Referral
from partners.models import Partner

# Legal forms dropped from the end of a company name before comparing.
LEGAL_FORMS = frozenset(
    {
        "ab",
        "ag",
        "as",
        "bv",
        "co",
        "company",
        "corp",
        "corporation",
        "gmbh",
        "inc",
        "incorporated",
        "kg",
        "limited",
        "llc",
        "llp",
        "lp",
        "ltd",
        "nv",
        "oy",
        "plc",
        "pty",
        "sa",
        "sarl",
        "sas",
        "spa",
        "srl",
    }
)
_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")
# Earlier registrations named in one signal's details; the count is always complete.
MAX_LISTED = 20


def company_name_key(name: str) -> str:
    """Return `name` reduced for comparison: "The Acme, Inc." and "acme inc" give "acme".

    Returns "" when nothing is left, such as for an empty name or one that is only
    a legal form.
    """
    text = unicodedata.normalize("NFKD", name)
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    words = _NOT_ALPHANUMERIC.sub(" ", text.replace("&", " and ")).split()
    if words and words[0] == "the":
        words = words[1:]
    while words and words[-1] in LEGAL_FORMS:
        words.pop()
    return " ".join(words)


def _is_recent(row: dict, scan: RuleInput) -> bool:
    return (
        scan.since is None or row["registered_at"] >= scan.since or row["created_at"] >= scan.since
    )


def duplicate_registration_signals(scan: RuleInput) -> list[SignalCandidate]:
    """Return signals for registrations repeating an earlier one's company name or contact."""
    rows = list(
        Referral.objects.filter(partner_id__in=scan.partner_ids)
        .exclude(status=Referral.Status.REJECTED)
        .exclude(company_name="", contact_email="")
        .values(
            "id",
            "partner_id",
            "domain",
            "company_name",
            "contact_email",
            "registered_at",
            "created_at",
        )
        .order_by("registered_at", "id")
    )
    by_name: dict[tuple[int, str], list[dict]] = defaultdict(list)
    by_email: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for row in rows:
        name = company_name_key(row["company_name"])
        if name:
            by_name[(row["partner_id"], name)].append(row)
        email = row["contact_email"].strip().lower()
        if email:
            by_email[(row["partner_id"], email)].append(row)

    candidates = []
    for (_, name), group in by_name.items():
        for position, row in enumerate(group[1:], start=1):
            if _is_recent(row, scan):
                candidates.append(_repeat(row, group[:position], "name", name))
    for (_, email), group in by_email.items():
        for position, row in enumerate(group[1:], start=1):
            if _is_recent(row, scan):
                candidates.append(_repeat(row, group[:position], "email", email))
    return candidates


def _repeat(row: dict, earlier: list[dict], evidence: str, value: str) -> SignalCandidate:
    domains = ", ".join(other["domain"] for other in earlier[:MAX_LISTED])
    if len(earlier) > MAX_LISTED:
        domains += " …"
    if evidence == "name":
        repeated = f"the company name “{row['company_name']}”"
    else:
        repeated = f"the contact e-mail {value}"
    return SignalCandidate(
        kind=FraudSignal.Kind.DUPLICATE_REGISTRATION,
        partner_id=row["partner_id"],
        referral_id=row["id"],
        idempotency_key=f"duplicate_registration:{evidence}:referral:{row['id']}",
        summary=(
            f"{row['domain']} repeats {repeated} of "
            f"{plural(len(earlier), 'earlier registration')} by this partner: {domains}."
        ),
        details={
            "evidence": evidence,
            "domain": row["domain"],
            "value": row["company_name"] if evidence == "name" else value,
            "earlier_count": len(earlier),
            "earlier": [
                {"referral_id": other["id"], "domain": other["domain"]}
                for other in earlier[:MAX_LISTED]
            ],
        },
    )


PAIRS_SQL = """
    SELECT later.id, later.partner_id, later.domain, later.registered_at,
           earlier.id, earlier.partner_id, earlier.registered_at
      FROM attribution_referral AS later
      JOIN attribution_referral AS earlier
        ON earlier.tenant_id = later.tenant_id AND earlier.domain = later.domain
       AND earlier.partner_id <> later.partner_id AND earlier.status <> %(rejected)s
       AND (earlier.registered_at, earlier.id) < (later.registered_at, later.id)
     WHERE later.tenant_id = %(tenant_id)s AND later.partner_id = ANY(%(partner_ids)s)
       AND later.status <> %(rejected)s {since}
"""
SINCE_SQL = "AND (later.registered_at >= %(since)s OR later.created_at >= %(since)s)"

# Distinct ip_hash values that clicks on both partners' links came from, per pair.
SHARED_IPS_SQL = """
    SELECT pair.position,
           (SELECT count(*) FROM (
                SELECT c.ip_hash FROM attribution_click AS c
                 WHERE c.tenant_id = %(tenant_id)s AND c.partner_id = pair.later_partner
                   AND c.clicked_at BETWEEN pair.start_at AND pair.end_at AND c.ip_hash <> ''
                INTERSECT
                SELECT c.ip_hash FROM attribution_click AS c
                 WHERE c.tenant_id = %(tenant_id)s AND c.partner_id = pair.earlier_partner
                   AND c.clicked_at BETWEEN pair.start_at AND pair.end_at AND c.ip_hash <> ''
           ) AS shared)
      FROM unnest(%(positions)s::int[], %(later_partners)s::bigint[],
                  %(earlier_partners)s::bigint[], %(starts)s::timestamptz[],
                  %(ends)s::timestamptz[])
           AS pair(position, later_partner, earlier_partner, start_at, end_at)
"""


def linked_partner_signals(scan: RuleInput) -> list[SignalCandidate]:
    """Return signals for domains registered earlier by a partner linked to the registrant."""
    sql = PAIRS_SQL.format(since=SINCE_SQL if scan.since is not None else "")
    params = {
        "tenant_id": scan.tenant_id,
        "partner_ids": list(scan.partner_ids),
        "rejected": Referral.Status.REJECTED,
        "since": scan.since,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pairs = cursor.fetchall()
    if not pairs:
        return []

    partners = {row[1] for row in pairs} | {row[5] for row in pairs}
    identities = partner_identities(tenant_id=scan.tenant_id, partner_ids=partners)
    shared_ips = _shared_ip_counts(scan.tenant_id, pairs)
    names = dict(Partner.objects.filter(pk__in=partners).values_list("pk", "name"))

    links: dict[int, dict] = {}
    for position, pair in enumerate(pairs):
        later_id, later_partner, domain, later_at, earlier_id, earlier_partner, earlier_at = pair
        later_domains = identities.get(later_partner)
        earlier_domains = identities.get(earlier_partner)
        shared_domains = sorted(
            set(later_domains.domains if later_domains else ())
            & set(earlier_domains.domains if earlier_domains else ())
        )
        ips = shared_ips[position]
        if not shared_domains and ips < LINKED_MIN_SHARED_IPS:
            continue
        link = links.setdefault(
            later_id,
            {"partner_id": later_partner, "domain": domain, "registered_at": later_at, "to": []},
        )
        link["to"].append(
            {
                "partner_id": earlier_partner,
                "partner_name": names.get(earlier_partner, ""),
                "referral_id": earlier_id,
                "registered_at": iso(earlier_at),
                "shared_domains": shared_domains,
                "shared_ip_hashes": ips,
            }
        )
    return [_linked(referral_id, link) for referral_id, link in sorted(links.items())]


def _shared_ip_counts(tenant_id: int, pairs: list[tuple]) -> list[int]:
    params = {
        "tenant_id": tenant_id,
        "positions": list(range(len(pairs))),
        "later_partners": [pair[1] for pair in pairs],
        "earlier_partners": [pair[5] for pair in pairs],
        "starts": [pair[3] - LINKED_CLICK_LOOKBACK for pair in pairs],
        "ends": [pair[3] for pair in pairs],
    }
    counts = [0] * len(pairs)
    with connection.cursor() as cursor:
        cursor.execute(SHARED_IPS_SQL, params)
        for position, shared in cursor.fetchall():
            counts[position] = shared
    return counts


def _linked(referral_id: int, link: dict) -> SignalCandidate:
    reasons = []
    for other in link["to"]:
        evidence = []
        if other["shared_domains"]:
            evidence.append(f"shares the organisation domain {', '.join(other['shared_domains'])}")
        if other["shared_ip_hashes"] >= LINKED_MIN_SHARED_IPS:
            evidence.append(
                f"shares {plural(other['shared_ip_hashes'], 'click address')} in the "
                f"{LINKED_CLICK_LOOKBACK.days} days before"
            )
        reasons.append(f"“{other['partner_name']}”, which {' and '.join(evidence)}")
    return SignalCandidate(
        kind=FraudSignal.Kind.DUPLICATE_REGISTRATION,
        partner_id=link["partner_id"],
        referral_id=referral_id,
        idempotency_key=f"duplicate_registration:linked:referral:{referral_id}",
        summary=(
            f"{link['domain']} was registered earlier by a linked partner: {'; '.join(reasons)}."
        ),
        details={
            "evidence": "linked",
            "domain": link["domain"],
            "registered_at": iso(link["registered_at"]),
            "linked": link["to"],
        },
    )
