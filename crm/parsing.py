"""Field parsers for CSV and API input; each raises ValueError with the expectation."""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal, InvalidOperation

import pycountry

from crm.domains import InvalidDomain, normalize_domain

STAGE_ALIASES = {
    "open": "open",
    "prospecting": "open",
    "engaging": "open",
    "qualified": "open",
    "won": "won",
    "closed won": "won",
    "closed-won": "won",
    "lost": "lost",
    "closed lost": "lost",
    "closed-lost": "lost",
}

# ISO 4217 currencies whose minor unit is not the usual two decimals.
CURRENCY_EXPONENTS = {
    "BHD": 3, "BIF": 0, "CLF": 4, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0,
    "JOD": 3, "JPY": 0, "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0,
    "RWF": 0, "TND": 3, "UGX": 0, "UYI": 0, "UYW": 4, "VND": 0, "VUV": 0, "XAF": 0,
    "XOF": 0, "XPF": 0,
}  # fmt: skip


def currency_exponent(code: str) -> int:
    """Return the number of decimals of the currency's minor unit (ISO 4217)."""
    return CURRENCY_EXPONENTS.get(code, 2)


def parse_text(raw: str, *, max_length: int) -> str:
    value = raw.strip()
    if len(value) > max_length:
        raise ValueError(f"at most {max_length} characters")
    return value


# Whole numbers in CSV and API input stay far below 10^18.
MAX_INT_DIGITS = 18


def parse_int(raw: str, *, minimum: int = 0, maximum: int | None = None) -> int | None:
    value = raw.strip().replace(",", "")
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError("a whole number") from None
    # Range checks happen on the Decimal: int() of "Infinity" raises, and of
    # "1e1000000" takes seconds.
    if not number.is_finite() or number.adjusted() > MAX_INT_DIGITS:
        raise ValueError(_int_bound(minimum, maximum))
    if number != number.to_integral_value():
        raise ValueError("a whole number")
    if number < minimum or (maximum is not None and number > maximum):
        raise ValueError(_int_bound(minimum, maximum))
    return int(number)


def _int_bound(minimum: int, maximum: int | None) -> str:
    if maximum is None:
        return f"a whole number ≥ {minimum}"
    return f"a whole number between {minimum} and {maximum}"


def parse_decimal(raw: str, *, places: int = 2, minimum: Decimal = Decimal(0)) -> Decimal | None:
    value = raw.strip().replace(",", "")
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError("a number such as 1250.50") from None
    if not number.is_finite():
        raise ValueError("a finite number")
    if number < minimum:
        raise ValueError(f"a number ≥ {minimum}")
    if number.as_tuple().exponent < -places:
        raise ValueError(f"a number with at most {places} decimals")
    if number.adjusted() >= 12:
        raise ValueError("a number below 10^12")
    return number


# Dates outside these years are typing errors in CRM data, not real deals.
EARLIEST_YEAR = 1900
LATEST_YEAR = 2100


def check_date_range(value: datetime.date | None) -> datetime.date | None:
    if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"a date between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


def parse_date(raw: str) -> datetime.date | None:
    value = raw.strip()
    if not value:
        return None
    try:
        date = datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError("a date as YYYY-MM-DD") from None
    return check_date_range(date)


@functools.cache
def _country_code(value: str) -> str | None:
    try:
        country = pycountry.countries.lookup(value)
    except LookupError:
        return None
    return country.alpha_2


def parse_country(raw: str) -> str:
    value = raw.strip()
    if not value:
        return ""
    code = _country_code(value)
    if code is None:
        raise ValueError("a country name or ISO 3166 code such as 'Germany' or 'DE'")
    return code


def parse_currency(raw: str) -> str:
    value = raw.strip().upper()
    if not value:
        return ""
    if pycountry.currencies.get(alpha_3=value) is None:
        raise ValueError("an ISO 4217 currency code such as USD or EUR")
    return value


def parse_stage(raw: str) -> str:
    stage = STAGE_ALIASES.get(raw.strip().lower())
    if stage is None:
        raise ValueError(
            "one of open, won, lost (or Prospecting, Engaging, Closed Won, Closed Lost)"
        )
    return stage


KIND_ALIASES = {
    "new": "new",
    "new business": "new",
    "new_business": "new",
    "renewal": "renewal",
    "renew": "renewal",
    "expansion": "expansion",
    "upsell": "expansion",
    "upgrade": "expansion",
}


def parse_deal_kind(raw: str) -> str:
    """Return new, renewal or expansion; an empty cell is new business."""
    if not raw.strip():
        return "new"
    kind = KIND_ALIASES.get(raw.strip().lower())
    if kind is None:
        raise ValueError("one of new, renewal, expansion (or New Business, Upsell)")
    return kind


def parse_domain(raw: str) -> str:
    if not raw.strip():
        return ""
    try:
        return normalize_domain(raw)
    except InvalidDomain:
        raise ValueError("a web domain such as acme.com") from None


def parse_list(raw: str) -> list[str]:
    return sorted({item.strip() for item in raw.replace(",", ";").split(";") if item.strip()})


MAX_TRIGGER_NAME_LENGTH = 60


def trigger_name_normalize(name: str) -> str:
    """Return a buying trigger's name lower-cased, with spaces as underscores."""
    return name.strip().casefold().replace(" ", "_")


def parse_triggers(raw: str) -> dict[str, str]:
    """Parse "funding:2026-09-14; new_cto:2026-06-01" into {name: ISO date}.

    Names are lower-cased with spaces as underscores; a name given twice keeps its
    latest date.
    """
    triggers: dict[str, str] = {}
    for item in raw.replace(",", ";").split(";"):
        if not item.strip():
            continue
        name, separator, day = item.partition(":")
        name = trigger_name_normalize(name)
        if not separator or not name or len(name) > MAX_TRIGGER_NAME_LENGTH:
            raise ValueError("trigger:date pairs such as 'funding:2026-09-14; new_cto:2026-06-01'")
        date = parse_date(day)
        if date is None:
            raise ValueError(f"a date after {name!r}:, as YYYY-MM-DD")
        triggers[name] = max(triggers.get(name, ""), date.isoformat())
    return triggers
