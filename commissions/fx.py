"""Tenant exchange rates: lookup for a date, conversion to the base currency, bulk upsert.

Commissions are paid in `Tenant.base_currency`. A deal in another currency is
converted at the tenant's own rate for the deal's won date: the rate with the
latest `rate_date` on or before that date, at most MAX_RATE_AGE_DAYS older. A
later rate is never used and rates are never interpolated, so a date without a
rate raises MissingExchangeRate. Ledger entries store the rate they were booked
with, so changing or deleting a rate leaves them as they are.
"""

from __future__ import annotations

import datetime
import decimal
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from commissions.fx_models import ExchangeRate
from crm import parsing
from tenancy.errors import DomainError, NotFound
from tenancy.models import Tenant
from tenancy.queue import enqueue_on_commit
from tenancy.services import actor_user, audit_record

logger = logging.getLogger(__name__)

# A rate covers the dates up to this many days after its rate_date. Monthly rates
# entered on the 1st cover the whole month, the longest of which has 31 days, and
# daily rates cover weekends and holidays.
MAX_RATE_AGE_DAYS = 31
# The rate column is DECIMAL(18, 8): 8 decimals and 10 digits before the point.
RATE_DECIMAL_PLACES = 8
RATE_MAX_INTEGER_DIGITS = 10
SOURCE_MAX_LENGTH = ExchangeRate._meta.get_field("source").max_length
# A rejected batch reports its invalid rows up to this many.
MAX_REPORTED_ROW_ERRORS = 100
# Enough digits for a deal amount below 10^12 with 4 decimals times an 18-digit
# rate, so the product is exact before it is rounded to the minor unit.
CONVERSION_PRECISION = 50

PAGE_PATH = "/ledger/exchange-rates/"
API_PATH = "/api/v1/exchange-rates/"


@dataclass(frozen=True)
class ExchangeRateQuote:
    """The rate that converts `currency` into `base_currency` on a date.

    `rate` is units of the base currency per 1 unit of `currency`, and `rate_date` is
    the date of the stored rate, which may be up to MAX_RATE_AGE_DAYS before the date
    asked for. The same currency gets rate 1 dated the day asked for.
    """

    currency: str
    base_currency: str
    rate: Decimal
    rate_date: datetime.date


class MissingExchangeRate(DomainError):
    """No rate of the tenant converts the currency on the date, so nothing is converted."""

    status_code = 404
    code = "missing_exchange_rate"

    def __init__(
        self,
        *,
        currency: str,
        base_currency: str,
        on_date: datetime.date,
        latest_before: datetime.date | None,
    ):
        oldest = on_date - datetime.timedelta(days=MAX_RATE_AGE_DAYS)
        message = (
            f"No {currency}→{base_currency} exchange rate for {on_date.isoformat()}: "
            f"no rate is dated from {oldest.isoformat()} to {on_date.isoformat()}."
        )
        if latest_before is not None:
            message += (
                f" The latest earlier {currency} rate, of {latest_before.isoformat()}, is more "
                f"than {MAX_RATE_AGE_DAYS} days old."
            )
        super().__init__(
            message,
            field="currency",
            value=currency,
            fix=(
                f"Add the {currency} rate (units of {base_currency} per 1 {currency}) dated "
                f"{on_date.isoformat()} or up to {MAX_RATE_AGE_DAYS} days earlier, on the "
                f"Exchange rates page ({PAGE_PATH}) or with POST {API_PATH}."
            ),
        )
        self.currency = currency
        self.base_currency = base_currency
        self.on_date = on_date


def _currency_code(raw, *, field: str = "currency") -> str:
    """Return the ISO 4217 code of `raw` in upper case, or raise DomainError."""
    text = raw.strip() if isinstance(raw, str) else ""
    try:
        code = parsing.parse_currency(text)
    except ValueError:
        code = ""
    if not code:
        raise DomainError(
            f"{raw!r} is not an ISO 4217 currency code.",
            field=field,
            value=raw,
            fix="Send a three-letter ISO 4217 code such as EUR, GBP or JPY.",
        )
    return code


def exchange_rate_for(
    *, tenant: Tenant, currency: str, on_date: datetime.date
) -> ExchangeRateQuote:
    """Return the tenant's rate that converts `currency` on `on_date` into its base currency.

    Uses the rate with the latest rate_date on or before `on_date`, at most
    MAX_RATE_AGE_DAYS older. Raises MissingExchangeRate when there is none, and
    DomainError when `currency` is not an ISO 4217 code. Runs inside the tenant's
    scope, as the pipeline does.
    """
    code = _currency_code(currency)
    base = tenant.base_currency
    if code == base:
        return ExchangeRateQuote(
            currency=code, base_currency=base, rate=Decimal(1), rate_date=on_date
        )

    rates = ExchangeRate.objects.filter(tenant_id=tenant.pk, currency=code, rate_date__lte=on_date)
    latest = rates.order_by("-rate_date").values_list("rate_date", "rate").first()
    oldest = on_date - datetime.timedelta(days=MAX_RATE_AGE_DAYS)
    if latest is None or latest[0] < oldest:
        logger.info(
            "fx.rate_missing tenant_id=%s currency=%s base=%s date=%s latest=%s",
            tenant.pk,
            code,
            base,
            on_date,
            latest[0] if latest else None,
        )
        raise MissingExchangeRate(
            currency=code,
            base_currency=base,
            on_date=on_date,
            latest_before=latest[0] if latest else None,
        )
    rate_date, rate = latest
    return ExchangeRateQuote(currency=code, base_currency=base, rate=rate, rate_date=rate_date)


def amount_convert(*, amount: Decimal, quote: ExchangeRateQuote) -> Decimal:
    """Convert `amount` of the quote's currency into its base currency.

    Rounds half up to the base currency's minor unit, such as 0 decimals for JPY and
    3 for KWD. The product is computed exactly first, so only the final rounding
    loses digits.
    """
    exponent = parsing.currency_exponent(quote.base_currency)
    with decimal.localcontext() as context:
        context.prec = CONVERSION_PRECISION
        product = amount * quote.rate
        return product.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ExchangeRateRow:
    """One checked rate of an upsert batch."""

    currency: str
    rate_date: datetime.date
    rate: Decimal
    source: str


@dataclass(frozen=True)
class UpsertResult:
    """The created, updated and unchanged counts of an upsert, and the rates in batch order."""

    created: int
    updated: int
    unchanged: int
    rates: list[ExchangeRate]


class ExchangeRateRowsInvalid(DomainError):
    """A batch with invalid rows; `errors` lists each one, and nothing was written."""

    def __init__(self, errors: list[dict], *, total: int):
        first = errors[0]
        shown = "" if total <= len(errors) else f" The first {len(errors)} are listed."
        super().__init__(
            f"{total} {'row is' if total == 1 else 'rows are'} invalid, so no rate was "
            f"written.{shown} "
            f"Row {first['index']}: {first['message']}",
            field=first["field"],
            value=first["value"],
            fix="Correct the listed rows and send the whole batch again.",
        )
        self.errors = errors
        self.total = total

    def as_dict(self) -> dict:
        body = super().as_dict()
        body["errors"] = self.errors
        return body


def _rate_value(raw) -> Decimal:
    if isinstance(raw, bool) or raw is None:
        number = None
    elif isinstance(raw, Decimal | int):
        number = Decimal(raw)
    elif isinstance(raw, float):
        # JSON numbers arrive as floats; their shortest text form is what the client wrote.
        number = Decimal(repr(raw))
    else:
        try:
            number = Decimal(str(raw).strip().replace(",", ""))
        except decimal.InvalidOperation:
            number = None
    if number is None or not number.is_finite():
        raise DomainError(
            f"The rate {raw!r} is not a number.",
            field="rate",
            value=raw,
            fix="Send the units of the base currency per 1 unit of the currency, such as 1.0834.",
        )
    if number <= 0:
        raise DomainError(
            f"The rate {raw!r} is not above 0.",
            field="rate",
            value=raw,
            fix="Send a positive rate: units of the base currency per 1 unit of the currency.",
        )
    if number.as_tuple().exponent < -RATE_DECIMAL_PLACES:
        raise DomainError(
            f"The rate {raw!r} has more than {RATE_DECIMAL_PLACES} decimals.",
            field="rate",
            value=raw,
            fix=f"Round the rate to at most {RATE_DECIMAL_PLACES} decimals.",
        )
    if number.adjusted() >= RATE_MAX_INTEGER_DIGITS:
        raise DomainError(
            f"The rate {raw!r} has more than {RATE_MAX_INTEGER_DIGITS} digits before the point.",
            field="rate",
            value=raw,
            fix=f"Send a rate below 10^{RATE_MAX_INTEGER_DIGITS}, in units of the base currency.",
        )
    # Stored with all 8 decimals, so a new rate reads the same as one loaded from the table.
    return number.quantize(Decimal(1).scaleb(-RATE_DECIMAL_PLACES))


def _rate_date_value(raw) -> datetime.date:
    if isinstance(raw, datetime.datetime):
        raw = raw.date().isoformat()
    elif isinstance(raw, datetime.date):
        raw = raw.isoformat()
    try:
        value = parsing.parse_date(raw) if isinstance(raw, str) else None
    except ValueError as error:
        expected = str(error)
        value = None
    else:
        expected = "a date as YYYY-MM-DD"
    if value is None:
        raise DomainError(
            f"The rate date {raw!r} is not {expected}.",
            field="rate_date",
            value=raw,
            fix=f"Send the date the rate applies from as {expected}, such as 2026-03-01.",
        )
    return value


def _source_value(raw, default: str) -> str:
    if raw is None or raw == "":
        return default
    if not isinstance(raw, str) or len(raw.strip()) > SOURCE_MAX_LENGTH:
        raise DomainError(
            f"The source {raw!r} is not text of at most {SOURCE_MAX_LENGTH} characters.",
            field="source",
            value=raw,
            fix="Name where the rate comes from in a few words, such as ECB or manual.",
        )
    return raw.strip()


def exchange_rate_row_check(tenant: Tenant, row: Mapping, *, source: str = "") -> ExchangeRateRow:
    """Check one rate's fields and return them normalised, or raise DomainError naming the field."""
    if not isinstance(row, Mapping):
        raise DomainError(
            "A rate is not an object.",
            field="row",
            value=row,
            fix='Send each rate as {"currency": "EUR", "rate_date": "2026-03-01", "rate": "1.08"}.',
        )
    code = _currency_code(row.get("currency"))
    if code == tenant.base_currency:
        raise DomainError(
            f"{code} is the tenant's base currency, which needs no exchange rate.",
            field="currency",
            value=row.get("currency"),
            fix=f"Send rates of other currencies into {code}; amounts in {code} use rate 1.",
        )
    return ExchangeRateRow(
        currency=code,
        rate_date=_rate_date_value(row.get("rate_date")),
        rate=_rate_value(row.get("rate")),
        source=_source_value(row.get("source"), source),
    )


def exchange_rate_rows_check(
    tenant: Tenant, rows: Iterable, *, source: str = ""
) -> list[ExchangeRateRow]:
    """Check every row of a batch; raise ExchangeRateRowsInvalid listing the invalid ones.

    A currency and date may appear once per batch, because two rates for the same
    day leave it unclear which one the batch means.
    """
    checked: list[ExchangeRateRow] = []
    errors: list[dict] = []
    invalid = 0
    seen: dict[tuple[str, datetime.date], int] = {}
    for index, row in enumerate(rows):
        try:
            value = exchange_rate_row_check(tenant, row, source=source)
            first = seen.setdefault((value.currency, value.rate_date), index)
            if first != index:
                raise DomainError(
                    f"Row {first} already has the {value.currency} rate of "
                    f"{value.rate_date.isoformat()}.",
                    field="rate_date",
                    value=value.rate_date.isoformat(),
                    fix="Send one rate per currency and date in a batch.",
                )
        except DomainError as error:
            invalid += 1
            if len(errors) < MAX_REPORTED_ROW_ERRORS:
                errors.append(
                    {
                        "index": index,
                        "field": f"[{index}].{error.field}",
                        "value": error.as_dict().get("value"),
                        "message": error.message,
                        "fix": error.fix,
                    }
                )
            continue
        checked.append(value)
    if errors:
        raise ExchangeRateRowsInvalid(errors, total=invalid)
    if not checked:
        raise DomainError(
            "The batch has no rates.",
            field="rows",
            value=[],
            fix="Send at least one rate with currency, rate_date and rate.",
        )
    return checked


def _audit_values(rate: ExchangeRate) -> dict:
    return {
        "currency": rate.currency,
        "rate_date": rate.rate_date.isoformat(),
        "rate": str(rate.rate),
        "source": rate.source,
    }


@transaction.atomic
def exchange_rates_upsert(
    *, tenant: Tenant, rows: Iterable, actor=None, source: str = "manual"
) -> UpsertResult:
    """Store a batch of rates by currency and date, all or nothing; return what changed.

    A row equal to the stored rate changes nothing, so sending a batch again is
    safe. A row with another rate or source updates the stored one. `source` is
    the default for rows without one. Any invalid row raises before anything is
    written. Created and changed rates are audited, and deals waiting for a rate
    are processed again once the batch commits.
    """
    checked = exchange_rate_rows_check(tenant, rows, source=source)
    # Concurrent batches of one tenant wait here, so two of them never insert the same key.
    Tenant.objects.select_for_update().get(pk=tenant.pk)
    logger.info("fx.upsert_started tenant_id=%s rows=%s", tenant.pk, len(checked))

    keys = {(row.currency, row.rate_date) for row in checked}
    currencies = {currency for currency, _ in keys}
    dates = {rate_date for _, rate_date in keys}
    stored = {
        (rate.currency, rate.rate_date): rate
        for rate in ExchangeRate.objects.filter(
            tenant_id=tenant.pk, currency__in=currencies, rate_date__in=dates
        )
    }
    user = actor_user(actor)
    new_rates = [
        ExchangeRate(
            tenant=tenant,
            currency=row.currency,
            rate_date=row.rate_date,
            rate=row.rate,
            source=row.source,
            created_by=user,
        )
        for row in checked
        if (row.currency, row.rate_date) not in stored
    ]
    ExchangeRate.objects.bulk_create(new_rates)
    for rate in new_rates:
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            event="exchange_rate.created",
            obj=rate,
            after=_audit_values(rate),
        )
        stored[(rate.currency, rate.rate_date)] = rate

    created_keys = {(rate.currency, rate.rate_date) for rate in new_rates}
    updated = 0
    for row in checked:
        key = (row.currency, row.rate_date)
        rate = stored[key]
        if key in created_keys or (rate.rate == row.rate and rate.source == row.source):
            continue
        before = _audit_values(rate)
        rate.rate = row.rate
        rate.source = row.source
        rate.save(update_fields=["rate", "source", "updated_at"])
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            event="exchange_rate.updated",
            obj=rate,
            before=before,
            after=_audit_values(rate),
        )
        updated += 1

    result = UpsertResult(
        created=len(new_rates),
        updated=updated,
        unchanged=len(checked) - len(new_rates) - updated,
        rates=[stored[(row.currency, row.rate_date)] for row in checked],
    )
    if result.created or result.updated:
        deal_amounts_convert(tenant=tenant, currencies=currencies)
        _pending_deals_enqueue(tenant)
    logger.info(
        "fx.upsert_finished tenant_id=%s created=%s updated=%s unchanged=%s",
        tenant.pk,
        result.created,
        result.updated,
        result.unchanged,
    )
    return result


def deal_amounts_convert(*, tenant: Tenant, deal_ids=None, currencies=None) -> int:
    """Set the base-currency amount of the tenant's unbooked deals; return how many changed.

    Covers `deal_ids`, or the deals in `currencies`, or every deal, and among them
    those not yet booked and those still without one. A deal in the base currency
    gets its own amount. Another currency is converted at the rate
    `exchange_rate_for` would pick for the close date (today without one), rounded
    half up to the base currency's minor unit; without such a rate the amount is
    null. Booked deals keep the amount the pipeline froze with their commission.
    """
    from django.db import connection

    exponent = parsing.currency_exponent(tenant.base_currency)
    filters, params = (
        ["d.tenant_id = %(tenant_id)s"],
        {
            "tenant_id": tenant.pk,
            "base": tenant.base_currency,
            "today": tenant.today(),
            "max_age": MAX_RATE_AGE_DAYS,
            "exponent": exponent,
        },
    )
    if deal_ids is not None:
        filters.append("d.id = ANY(%(deal_ids)s)")
        params["deal_ids"] = list(deal_ids)
    if currencies is not None:
        filters.append("d.currency = ANY(%(currencies)s)")
        params["currencies"] = list(currencies)
    rate = """
        SELECT e.rate FROM commissions_exchangerate AS e
         WHERE e.tenant_id = d.tenant_id AND e.currency = d.currency
           AND e.rate_date <= COALESCE(d.close_date, %(today)s::date)
           AND e.rate_date >= COALESCE(d.close_date, %(today)s::date) - %(max_age)s::int
         ORDER BY e.rate_date DESC LIMIT 1
    """
    converted = f"""
        CASE WHEN d.currency = %(base)s THEN d.amount
             ELSE round(d.amount * ({rate}), %(exponent)s::int) END
    """  # noqa: S608 - the only interpolation is the fixed subquery above
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE crm_deal AS d SET amount_base = {converted}
             WHERE {" AND ".join(filters)}
               AND (d.pipeline_status <> 'processed' OR d.amount_base IS NULL)
               AND d.amount_base IS DISTINCT FROM {converted}
            """,  # noqa: S608 - fixed SQL fragments only; values are parameters
            params,
        )
        changed = cursor.rowcount
    logger.info("fx.deal_amounts_converted tenant_id=%s changed=%s", tenant.pk, changed)
    return changed


def _pending_deals_enqueue(tenant: Tenant) -> None:
    """Process the won deals again that wait for a rate, once the rates are committed."""
    # Imported here, as in commission_plan_activate, because crm.tasks imports the
    # pipeline, which imports the commission services.
    from crm.tasks import process_pending_deals_task

    enqueue_on_commit(process_pending_deals_task, tenant.pk)


@transaction.atomic
def exchange_rate_delete(*, tenant: Tenant, rate_id: int, actor=None) -> None:
    """Delete one of the tenant's rates; ledger entries booked with it keep their rate.

    Raises NotFound for an id that is not one of the tenant's rates.
    """
    rate = ExchangeRate.objects.select_for_update().filter(tenant_id=tenant.pk, pk=rate_id).first()
    if rate is None:
        raise NotFound(
            "No exchange rate has this id.",
            field="id",
            value=rate_id,
            fix=f"List the tenant's rates with GET {API_PATH}.",
        )
    before = _audit_values(rate)
    audit_record(
        tenant_id=tenant.pk, actor=actor, event="exchange_rate.deleted", obj=rate, before=before
    )
    rate.delete()
    logger.info(
        "fx.rate_deleted tenant_id=%s rate_id=%s currency=%s rate_date=%s",
        tenant.pk,
        rate_id,
        before["currency"],
        before["rate_date"],
    )


def exchange_rate_list(
    *,
    currency: str | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
):
    """Return the active tenant's rates, newest rate_date first, then by currency."""
    rates = ExchangeRate.objects.select_related("created_by").order_by("-rate_date", "currency")
    if currency:
        rates = rates.filter(currency=currency.strip().upper())
    if date_from is not None:
        rates = rates.filter(rate_date__gte=date_from)
    if date_to is not None:
        rates = rates.filter(rate_date__lte=date_to)
    return rates


def exchange_rate_get(*, pk: int) -> ExchangeRate:
    """Return the active tenant's rate `pk`, or raise NotFound, also for another tenant's id."""
    rate = exchange_rate_list().filter(pk=pk).first()
    if rate is None:
        raise NotFound(
            "No exchange rate has this id.",
            field="id",
            value=pk,
            fix="List rates with GET /api/v1/exchange-rates/ to find the id.",
        )
    return rate
