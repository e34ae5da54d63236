"""Field parsers for CSV and API input; each raises ValueError with the expectation."""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import functools
import re
from dataclasses import dataclass
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
    """Parse an amount; inside `input_format` its locale decides the separators."""
    current = _INPUT_FORMAT.get()
    if current is None:
        value = raw.strip().replace(",", "")
    else:
        value = normalize_number(raw, current.locale)
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
    """Parse an ISO date; inside `input_format` also the file formats it accepts."""
    value = raw.strip()
    if not value:
        return None
    current = _INPUT_FORMAT.get()
    if current is not None and not ISO_DATE.match(value):
        return check_date_range(parse_file_date(value, current.date_order))
    return parse_iso_date(value)


def parse_iso_date(raw: str) -> datetime.date | None:
    """Parse a YYYY-MM-DD date, whatever format the file declares."""
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
        date = parse_iso_date(day)
        if date is None:
            raise ValueError(f"a date after {name!r}:, as YYYY-MM-DD")
        triggers[name] = max(triggers.get(name, ""), date.isoformat())
    return triggers


# File formats: numbers and dates as spreadsheets export them.


@dataclass(frozen=True)
class InputFormat:
    """The number and date formats a file declares.

    `locale` is a key of NUMBER_LOCALES, or None when the file declares none: then
    a number whose separators could be read two ways is rejected. `date_order` is
    DMY, MDY or YMD, or None: then a date such as 03/04/2026 is rejected.
    """

    locale: str | None = None
    date_order: str | None = None


# Thousands separators and decimal mark of each locale a file may declare. The
# French group separator is a space, a no-break space (U+00A0) or a narrow
# no-break space (U+202F), as spreadsheets write it.
NUMBER_LOCALES: dict[str, tuple[tuple[str, ...], str]] = {
    "en": ((",",), "."),
    "de": ((".",), ","),
    "fr": ((" ", "\u00a0", "\u202f"), ","),
    "ch": (("'", "\u2019"), "."),
}
DATE_ORDERS = ("DMY", "MDY", "YMD")

_INPUT_FORMAT: contextvars.ContextVar[InputFormat | None] = contextvars.ContextVar(
    "input_format", default=None
)


@contextlib.contextmanager
def input_format(current: InputFormat):
    """Make parse_decimal and parse_date read `current`'s file formats in this block."""
    token = _INPUT_FORMAT.set(current)
    try:
        yield
    finally:
        _INPUT_FORMAT.reset(token)


_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_SPACES = (" ", "\u00a0", "\u202f")


def normalize_number(raw: str, locale: str | None) -> str:
    """Return `raw` as a plain decimal string such as 1234.56, or "" for an empty cell.

    Without a locale, only forms that read one way are accepted: 1234.56, 1,234.56,
    1.234,56, 1 234,56, 1'234.56 and 12,5. A lone separator followed by exactly
    three digits (1,234 or 1.234) is rejected, since it is a thousands group in one
    locale and a decimal part in another.
    """
    value = raw.strip()
    for space in _SPACES[1:]:
        value = value.replace(space, " ")
    if not value:
        return ""
    if locale is not None:
        return _normalize_locale(raw, value, locale)
    if _PLAIN_NUMBER.fullmatch(value) and "." not in value:
        return value
    return _normalize_unknown_locale(raw, value)


def _normalize_locale(raw: str, value: str, locale: str) -> str:
    groups, mark = NUMBER_LOCALES[locale]
    group = " " if " " in groups else groups[0]
    value = value.replace("\u2019", "'")
    integer, _, fraction = value.partition(mark)
    pattern = rf"-?\d{{1,3}}({re.escape(group)}\d{{3}})+"
    if group in integer and not re.fullmatch(pattern, integer):
        raise ValueError(
            f"a number written as in locale {locale!r}, but {raw.strip()!r} is not: "
            "check the value or the declared locale"
        )
    if mark in fraction or (fraction and not fraction.isdigit()):
        raise ValueError(f"a number written as in locale {locale!r}, such as {_EXAMPLES[locale]}")
    integer = integer.replace(group, "")
    return f"{integer}.{fraction}" if fraction else integer


_EXAMPLES = {"en": "1,234.56", "de": "1.234,56", "fr": "1 234,56", "ch": "1'234.56"}


def _normalize_unknown_locale(raw: str, value: str) -> str:
    marks = [char for char in value if char in ",.' "]
    distinct = list(dict.fromkeys(marks))
    if len(distinct) >= 2:
        # The last separator is the decimal mark and the others group thousands.
        mark = marks[-1]
        if marks.count(mark) > 1:
            raise ValueError(
                f"a number: {raw.strip()!r} has separators that do not match any locale"
            )
        integer, _, fraction = value.rpartition(mark)
        for group in distinct:
            integer = integer.replace(group, "")
        return f"{integer}.{fraction}"
    if not distinct:
        return value
    separator = distinct[0]
    integer, _, fraction = value.rpartition(separator)
    if marks.count(separator) > 1 or separator in "' ":
        return value.replace(separator, "")
    if len(fraction) == 3:
        raise ValueError(
            f"a number that reads one way, but {raw.strip()!r} is a thousand times larger "
            "in some locales than in others: declare the file's number locale "
            "(en, de, fr or ch)"
        )
    return f"{integer}.{fraction}"


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_SLASHED_DATE = re.compile(r"(\d{1,4})[/-](\d{1,2})[/-](\d{1,4})")
_SERIAL_DATE = re.compile(r"\d{1,5}(\.\d+)?")

# Spreadsheet serial dates in the 1900 date system: serial 1 is 1900-01-01, and
# serial 60 is 1900-02-29, a day that does not exist but which the 1900 system
# counts, so serials from 61 on are one day later than a plain count would give.
# Accepted serials run from 1 to 73415 (2100-12-31), the range of check_date_range.
SERIAL_EPOCH = datetime.date(1899, 12, 30)
SERIAL_LEAP_BUG = 60
SERIAL_MAX = 73415


def parse_serial_date(value: str) -> datetime.date:
    """Convert a spreadsheet serial date (1900 system); a time fraction is dropped."""
    serial = int(Decimal(value))
    if serial == SERIAL_LEAP_BUG:
        raise ValueError(
            "a real date, but serial 60 is 1900-02-29, a day spreadsheets count that "
            "never existed: fix the cell"
        )
    if not 1 <= serial <= SERIAL_MAX:
        raise ValueError(f"a serial date between 1 and {SERIAL_MAX}")
    if serial < SERIAL_LEAP_BUG:
        serial += 1
    return SERIAL_EPOCH + datetime.timedelta(days=serial)


def parse_file_date(value: str, date_order: str | None) -> datetime.date:
    """Parse DD.MM.YYYY, DD/MM/YYYY, MM/DD/YYYY, YYYY/MM/DD and serial dates.

    Slashed dates follow `date_order`. Without one, a date whose first two parts
    could both be a month (03/04/2026) is rejected, while 25/12/2026 reads one way
    and is accepted as 25 December.
    """
    expected = "a date as YYYY-MM-DD, DD.MM.YYYY, DD/MM/YYYY or MM/DD/YYYY"
    if _SERIAL_DATE.fullmatch(value):
        return parse_serial_date(value)
    dotted = _DOTTED_DATE.fullmatch(value)
    if dotted:
        day, month, year = (int(part) for part in dotted.groups())
        return _date_or_error(year, month, day, expected)
    slashed = _SLASHED_DATE.fullmatch(value)
    if not slashed:
        raise ValueError(expected)
    first, second, third = slashed.groups()
    if len(first) == 4:
        if date_order not in (None, "YMD"):
            raise ValueError(f"a date in {date_order} order, as the import declares")
        return _date_or_error(int(first), int(second), int(third), expected)
    if len(third) != 4:
        raise ValueError(f"{expected}, with a four-digit year")
    a, b, year = int(first), int(second), int(third)
    order = date_order
    if order is None:
        if a > 12 and b <= 12:
            order = "DMY"
        elif b > 12 and a <= 12:
            order = "MDY"
        elif a == b:
            order = "DMY"
        else:
            raise ValueError(
                f"a date that reads one way, but {value!r} could be day/month or "
                "month/day: declare the file's date format (DMY or MDY)"
            )
    if order == "DMY":
        return _date_or_error(year, b, a, expected)
    if order == "MDY":
        return _date_or_error(year, a, b, expected)
    raise ValueError("a date in YMD order, as the import declares")


def _date_or_error(year: int, month: int, day: int, expected: str) -> datetime.date:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise ValueError(f"{expected}, and a day that exists") from None
