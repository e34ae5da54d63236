"""Read the company a partner or the tenant names: a domain, a URL or an e-mail address.

Registrations, the eligibility check and conversions key a company by its
registrable domain, as accounts are (`crm.domains.normalize_domain`). Domains of
consumer mail providers (`crm.freemail`) name a person, so they are rejected.
"""

from __future__ import annotations

from crm.domains import InvalidDomain, normalize_domain
from crm.freemail import is_personal_domain
from tenancy.errors import DomainError

COMPANY_FIX = (
    "Give the company's web domain, such as acme.com, a URL on its site or an e-mail address at it."
)


def company_domain(raw, *, field: str = "domain") -> str:
    """Return the registrable domain of `raw`; raise DomainError naming `field` when invalid.

    Rejects empty values, values without a registrable domain (such as "localhost"
    or an IP address) and consumer mail domains such as gmail.com.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise DomainError(f"The {field} is missing.", field=field, value=raw, fix=COMPANY_FIX)
    try:
        domain = normalize_domain(raw)
    except InvalidDomain as error:
        raise DomainError(
            f"Invalid {field}: {error}.",
            field=field,
            value=raw,
            fix=COMPANY_FIX,
        ) from None
    if is_personal_domain(domain):
        raise DomainError(
            f"{domain} is a consumer mail provider, so it does not identify a company.",
            field=field,
            value=raw,
            fix="Use the company's own domain, such as acme.com, not a personal mail address.",
        )
    return domain
