"""Reach lists pushed by API: per-entry checks, merge or replace, idempotent writes.

Each entry names a company by `domain`, `email` or `url`, stored as the registrable
domain (`crm.domains.normalize_domain`). Entries at consumer mail providers
(`crm.freemail`) are rejected because they name a person, not a company. An entry
may carry the company's firmographics (FIRMOGRAPHIC_FIELDS), checked with the
parsers of the account import (`crm.parsing`). A field left out keeps the stored
value, and a field sent as null or empty clears it. Entries that match no account
are scored on these fields (`partners.reach_scoring`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

from django.db import transaction
from django.utils import timezone

from crm import parsing
from crm.domains import InvalidDomain, normalize_domain
from crm.freemail import is_personal_domain
from partners.models import Partner, ReachEntry
from partners.reach_scoring import FIRMOGRAPHIC_FIELDS
from partners.recompute import partner_scores_enqueue
from tenancy.errors import DomainError
from tenancy.services import audit_record

logger = logging.getLogger(__name__)

# The largest number of entries one request may push. Larger lists are split by the
# client; a partner's list has no limit.
MAX_PUSH_ENTRIES = 10_000
MAX_COMPANY_NAME_LENGTH = 255
ADDRESS_FIELDS = ("domain", "email", "url")
MODES = ("merge", "replace")
MAX_EMPLOYEES = 10_000_000
MAX_TEXT_LENGTH = 100
# Technologies one entry may list, and the length of each.
MAX_TECHNOLOGIES = 200

# Error reasons, counted separately in the push and CSV import results.
REASON_INVALID = "invalid"
REASON_PERSONAL = "personal_domain"
REASON_DUPLICATE = "duplicate"

PERSONAL_FIX = "Use the company's own domain, such as acme.com, not a personal mail address."


def personal_domain_message(domain: str) -> str:
    return (
        f"{domain} is a consumer mail provider, so it does not identify the company: "
        "reach lists take company domains only."
    )


@dataclass
class ReachEntryError:
    index: int
    field: str
    value: object
    message: str
    fix: str
    reason: str = REASON_INVALID


@dataclass
class ReachPushResult:
    """Counts of one push: total = accepted + duplicates + rejected_personal + rejected_invalid."""

    status: str = "succeeded"
    total: int = 0
    accepted: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    duplicates: int = 0
    rejected_personal: int = 0
    rejected_invalid: int = 0
    errors: list[ReachEntryError] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _entry_domain(index: int, entry) -> tuple[str, str] | ReachEntryError:
    """Return `(domain, company_name)` of one pushed entry, or the error that rejects it."""
    if not isinstance(entry, dict):
        return ReachEntryError(
            index,
            "entries",
            entry,
            f"Entry {index} is not an object.",
            'Send an object such as {"domain": "acme.com", "company_name": "Acme"}.',
        )
    present_fields = [name for name in ADDRESS_FIELDS if entry.get(name) not in (None, "")]
    if len(present_fields) != 1:
        return ReachEntryError(
            index,
            "domain",
            {name: entry.get(name) for name in present_fields} or None,
            f"Entry {index} has {len(present_fields)} of the fields domain, email and url.",
            "Give exactly one of domain, email or url per entry.",
        )
    name = present_fields[0]
    raw = entry[name]
    company = entry.get("company_name") or ""
    if not isinstance(raw, str):
        return ReachEntryError(
            index, name, raw, f"Entry {index}: {name} is not text.", "Send the value as a string."
        )
    if not isinstance(company, str) or len(company) > MAX_COMPANY_NAME_LENGTH:
        return ReachEntryError(
            index,
            "company_name",
            company,
            f"Entry {index}: company_name is not text of at most "
            f"{MAX_COMPANY_NAME_LENGTH} characters.",
            "Shorten the company name or leave it out.",
        )
    if name == "email" and "@" not in raw.strip().rstrip("@"):
        return ReachEntryError(
            index,
            name,
            raw,
            f"Entry {index}: {raw!r} is not an e-mail address.",
            "Give an address such as jane@acme.com, or send the company's domain instead.",
        )
    try:
        domain = normalize_domain(raw)
    except InvalidDomain as error:
        return ReachEntryError(
            index,
            name,
            raw,
            f"Entry {index}: {error}.",
            "Give a company web domain such as acme.com, a URL on it or an address at it.",
        )
    if is_personal_domain(domain):
        return ReachEntryError(
            index, name, raw, personal_domain_message(domain), PERSONAL_FIX, REASON_PERSONAL
        )
    return domain, company.strip()


def _parse_text(raw) -> str:
    return parsing.parse_text(raw, max_length=MAX_TEXT_LENGTH)


def _parse_employees(raw) -> int | None:
    return parsing.parse_int(raw, maximum=MAX_EMPLOYEES)


def _parse_tech_stack(raw) -> list[str]:
    items = parsing.parse_list(raw)
    if len(items) > MAX_TECHNOLOGIES:
        raise ValueError(f"at most {MAX_TECHNOLOGIES} technologies")
    if any(len(item) > MAX_TEXT_LENGTH for item in items):
        raise ValueError(f"technologies of at most {MAX_TEXT_LENGTH} characters each")
    return items


# Parser of each firmographic field, taking the value as text, and the fix of its error.
FIRMOGRAPHIC_PARSERS = {
    "industry": (_parse_text, "Send the industry as text, such as software."),
    "employees": (_parse_employees, "Send the head count as a whole number, such as 250."),
    "annual_revenue": (
        parsing.parse_decimal,
        'Send the annual revenue in your base currency as a number, such as "1250000.50".',
    ),
    "country": (parsing.parse_country, "Send a country name or ISO code, such as DE."),
    "region": (_parse_text, "Send the region as text, such as CA."),
    "tech_stack": (
        _parse_tech_stack,
        'Send a list of technologies, such as ["salesforce", "aws"], or one text separated by ";".',
    ),
}
_EMPTY_VALUES = {"industry": "", "country": "", "region": "", "tech_stack": []}


def _firmographic_text(name: str, value) -> str:
    """Return a pushed firmographic value as the text the CSV parsers take."""
    numeric = name in ("employees", "annual_revenue")
    if isinstance(value, bool):
        raise ValueError("a number, not true or false" if numeric else "text, not true or false")
    if name == "tech_stack" and isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise ValueError("a list of texts")
        # parse_list splits on "," and ";", as the CSV import does.
        return ";".join(value)
    if numeric and isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        raise ValueError("a number" if numeric else "text")
    return value


def _entry_firmographics(index: int, entry: dict) -> dict | ReachEntryError:
    """Return the firmographics an entry sends, parsed, or the error that rejects it."""
    values = {}
    for name, (parse, fix) in FIRMOGRAPHIC_PARSERS.items():
        if name not in entry:
            continue
        raw = entry[name]
        if raw is None or raw == "":
            values[name] = _EMPTY_VALUES.get(name)
            continue
        try:
            values[name] = parse(_firmographic_text(name, raw))
        except ValueError as error:
            return ReachEntryError(
                index, name, raw, f"Entry {index}: {name} is invalid: expected {error}.", fix
            )
    return values


def _check_request(entries, mode: str) -> None:
    if mode not in MODES:
        raise DomainError(
            f"Unknown reach push mode {mode!r}.",
            field="mode",
            value=mode,
            fix="Use merge to add to the list or replace to send the whole list.",
        )
    if not isinstance(entries, list):
        raise DomainError(
            "entries is not a list.", field="entries", value=None, fix="Send a JSON array."
        )
    if len(entries) > MAX_PUSH_ENTRIES:
        raise DomainError(
            f"The request has {len(entries)} entries, more than the limit of {MAX_PUSH_ENTRIES}.",
            field="entries",
            value=len(entries),
            fix=f"Split the list into requests of at most {MAX_PUSH_ENTRIES} entries, "
            "with mode merge after the first.",
        )


def reach_push(
    *, partner: Partner, entries: list, mode: str = "merge", strict: bool = False, actor=None
) -> ReachPushResult:
    """Write pushed reach entries to `partner`'s list and return the counts and errors.

    `merge` adds and renames entries, and `replace` also removes those not pushed. A
    strict push writes nothing when any entry is rejected, and a lenient one writes the
    valid entries. Nothing is written when no entry is valid but some were rejected,
    so a replace of only bad entries cannot empty the list. Pushing the same entries
    again changes no row, and the scores refresh only after a change.
    """
    _check_request(entries, mode)
    result = ReachPushResult(total=len(entries))
    # Each domain's company name and the firmographic fields its entries sent.
    companies: dict[str, dict] = {}
    for index, entry in enumerate(entries):
        checked = _entry_domain(index, entry)
        if not isinstance(checked, ReachEntryError):
            firmographics = _entry_firmographics(index, entry)
            if isinstance(firmographics, ReachEntryError):
                checked = firmographics
        if isinstance(checked, ReachEntryError):
            result.errors.append(checked)
            if checked.reason == REASON_PERSONAL:
                result.rejected_personal += 1
            else:
                result.rejected_invalid += 1
            continue
        domain, company = checked
        if domain in companies:
            # The first entry of a domain wins; later ones fill what it left out.
            result.duplicates += 1
            values = companies[domain]
            values["company_name"] = values["company_name"] or company
            for name, value in firmographics.items():
                values.setdefault(name, value)
            continue
        companies[domain] = {"company_name": company, **firmographics}

    logger.info(
        "reach.push.started tenant_id=%s partner_id=%s mode=%s strict=%s entries=%s",
        partner.tenant_id,
        partner.pk,
        mode,
        strict,
        len(entries),
    )
    if result.errors and (strict or not companies):
        result.status = "failed"
        logger.info(
            "reach.push.failed tenant_id=%s partner_id=%s errors=%s",
            partner.tenant_id,
            partner.pk,
            len(result.errors),
        )
        return result

    with transaction.atomic():
        _write(partner, companies, mode, result)
        changed = result.created or result.updated or result.removed
        if changed:
            audit_record(
                tenant_id=partner.tenant_id,
                actor=actor,
                event="partner.reach_pushed",
                obj=partner,
                after={
                    "mode": mode,
                    "created": result.created,
                    "updated": result.updated,
                    "removed": result.removed,
                },
            )
            partner_scores_enqueue(tenant_id=partner.tenant_id, partner_ids=[partner.pk])

    result.accepted = len(companies)
    result.status = "partial" if result.errors else "succeeded"
    logger.info(
        "reach.push.finished tenant_id=%s partner_id=%s created=%s updated=%s removed=%s "
        "rejected=%s",
        partner.tenant_id,
        partner.pk,
        result.created,
        result.updated,
        result.removed,
        len(result.errors),
    )
    return result


def _write(
    partner: Partner, companies: dict[str, dict], mode: str, result: ReachPushResult
) -> None:
    # Locking the partner serialises pushes to one list, so two concurrent pushes
    # never both insert the same domain.
    Partner.objects.select_for_update().filter(pk=partner.pk).first()
    existing = {entry.domain: entry for entry in ReachEntry.objects.filter(partner_id=partner.pk)}

    now = timezone.now()
    to_create = []
    to_update = []
    for domain, values in companies.items():
        entry = existing.get(domain)
        if entry is None:
            to_create.append(
                ReachEntry(
                    tenant_id=partner.tenant_id,
                    partner=partner,
                    domain=domain,
                    source="api",
                    **values,
                )
            )
            continue
        # An empty company name keeps the stored one; firmographics sent replace it.
        changes = {
            name: value
            for name, value in values.items()
            if getattr(entry, name) != value and (name != "company_name" or value)
        }
        if changes:
            for name, value in changes.items():
                setattr(entry, name, value)
            entry.updated_at = now
            to_update.append(entry)
        else:
            result.unchanged += 1

    ReachEntry.objects.bulk_create(to_create, batch_size=5000)
    ReachEntry.objects.bulk_update(
        to_update, ["company_name", *FIRMOGRAPHIC_FIELDS, "updated_at"], batch_size=5000
    )
    result.created = len(to_create)
    result.updated = len(to_update)

    if mode == "replace":
        stale = [entry.pk for domain, entry in existing.items() if domain not in companies]
        result.removed, _ = ReachEntry.objects.filter(pk__in=stale).delete()
