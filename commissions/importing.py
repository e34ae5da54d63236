"""CSV import of refund and churn events and of exchange rates.

Refund and churn events come one event a line, keyed on external_id.

Each line gets the checks of `POST /api/v1/revenue-events/`, and a rejected line
carries that endpoint's message and fix. Lines are written through
`revenue_event_record`, so a line already stored unchanged is a no-op, and each
new or changed event queues its reversals once the import commits. The shared
CSV machinery lives in `crm.importing`.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from commissions import fx
from commissions.models import RevenueEvent
from commissions.reversals import (
    event_changes_check,
    event_values_check,
    refunds_over_deal_error,
    revenue_event_record,
)
from crm import parsing
from crm.importing.csvfile import Column, ParsedFile, reject_duplicates
from crm.models import Deal
from tenancy.errors import DomainError

KINDS = tuple(RevenueEvent.Kind.values)


def parse_kind(raw: str) -> str:
    value = raw.strip().lower()
    if value not in KINDS:
        raise ValueError(f"one of {', '.join(KINDS)}")
    return value


REVENUE_EVENT_COLUMNS = (
    Column("external_id", partial(parsing.parse_text, max_length=100), required=True),
    Column("kind", parse_kind, required=True),
    Column("occurred_on", parsing.parse_date, required=True),
    Column("deal_external_id", partial(parsing.parse_text, max_length=100)),
    Column("account_external_id", partial(parsing.parse_text, max_length=100)),
    Column("amount", parsing.parse_decimal),
    Column("currency", parsing.parse_currency),
)

# CSV columns of the API fields an error may name.
ERROR_COLUMNS = {"deal_id": "deal_external_id", "account_id": "account_external_id"}


def _reject(parsed: ParsedFile, line: int, row: dict, error: DomainError) -> None:
    column = ERROR_COLUMNS.get(error.field or "", error.field or "")
    value = row.get(column) if column in row else error.value
    message = f"{error.message} {error.fix}".strip()
    parsed.reject(line, column, "" if value is None else str(value), message)


def _record_fields(row: dict) -> dict:
    return {
        "external_id": row["external_id"],
        "kind": row["kind"],
        "occurred_on": row["occurred_on"],
        "deal_external_id": row.get("deal_external_id") or None,
        "account_external_id": row.get("account_external_id") or None,
        "amount": row.get("amount"),
        "currency": row.get("currency") or "",
    }


def check_revenue_events(tenant, parsed: ParsedFile) -> None:
    """Reject lines the API would reject, in the order the import would write them."""
    reject_duplicates(parsed, "external_id", label="external_id")
    # Locked so that no task processes a stored event between this check and the write.
    stored = {
        event.external_id: event
        for event in RevenueEvent.objects.select_for_update().filter(
            external_id__in=[row["external_id"] for _, row in parsed.rows]
        )
    }
    valid_rows = []
    for line, row in parsed.rows:
        fields = _record_fields(row)
        try:
            values = event_values_check(
                **{name: value for name, value in fields.items() if name != "external_id"}
            )
            event = stored.get(row["external_id"])
            if event is not None:
                event_changes_check(
                    event,
                    values,
                    deal_external_id=fields["deal_external_id"],
                    account_external_id=fields["account_external_id"],
                )
        except DomainError as error:
            _reject(parsed, line, row, error)
            continue
        row["values"] = values
        valid_rows.append((line, row))
    parsed.rows = valid_rows
    _reject_refunds_over_deal(parsed, stored)


def _reject_refunds_over_deal(parsed: ParsedFile, stored: dict) -> None:
    """Reject refund lines that would bring their deal's refunds past the deal amount."""
    deal_ids = {
        row["values"]["deal_id"]
        for _, row in parsed.rows
        if row["values"]["kind"] == RevenueEvent.Kind.REFUND
    }
    if not deal_ids:
        return
    deals = Deal.objects.in_bulk(deal_ids)
    replaced = {row["external_id"] for _, row in parsed.rows}
    # Stored refunds count unless a line of this file replaces them.
    totals: dict[int, Decimal] = dict.fromkeys(deal_ids, Decimal(0))
    refunds = RevenueEvent.objects.filter(kind=RevenueEvent.Kind.REFUND, deal_id__in=deal_ids)
    for external_id, deal_id, amount in refunds.values_list("external_id", "deal_id", "amount"):
        if external_id not in replaced:
            totals[deal_id] += amount
    valid_rows = []
    for line, row in parsed.rows:
        values = row["values"]
        if values["kind"] == RevenueEvent.Kind.REFUND:
            deal = deals[values["deal_id"]]
            total = totals[deal.pk] + values["amount"]
            if total > deal.amount:
                error = refunds_over_deal_error(deal=deal, total=total, amount=values["amount"])
                _reject(parsed, line, row, error)
                continue
            totals[deal.pk] = total
        valid_rows.append((line, row))
    parsed.rows = valid_rows


def write_revenue_events(tenant, parsed: ParsedFile, run) -> tuple[int, int]:
    """Record each checked line; return (created, updated), counting unchanged lines as updated.

    Each new or still unprocessed event queues its reversals once the import commits.
    """
    # NOTE: a refund recorded through the API on the same deal between the check and
    # this write can still push the deal's refunds past its amount. The DomainError
    # then rolls back the whole import, its run included, and reaches the caller.
    created = 0
    for _, row in parsed.rows:
        result = revenue_event_record(tenant=tenant, actor=run.created_by, **_record_fields(row))
        created += result.created
    return created, len(parsed.rows) - created


def _text(max_length: int):
    return partial(parsing.parse_text, max_length=max_length)


# Parsed as text, so that `fx.exchange_rate_row_check` gives the API's message and fix.
EXCHANGE_RATE_COLUMNS = (
    Column("currency", _text(40), required=True),
    Column("rate_date", _text(40), required=True, aliases=("date",)),
    Column("rate", _text(40), required=True),
    Column("source", _text(fx.SOURCE_MAX_LENGTH)),
)


def check_exchange_rates(tenant, parsed: ParsedFile) -> None:
    """Reject lines that `POST /api/v1/exchange-rates/` would reject, and repeated rates."""
    first_lines: dict[tuple, int] = {}
    valid_rows = []
    for line, row in parsed.rows:
        try:
            checked = fx.exchange_rate_row_check(tenant, row, source="import")
        except DomainError as error:
            _reject(parsed, line, row, error)
            continue
        key = (checked.currency, checked.rate_date)
        if key in first_lines:
            parsed.reject(
                line,
                "rate_date",
                row["rate_date"],
                f"Line {first_lines[key]} already has the {checked.currency} rate of "
                f"{checked.rate_date.isoformat()}. Keep one line per currency and date.",
            )
            continue
        first_lines[key] = line
        row["checked"] = checked
        valid_rows.append((line, row))
    parsed.rows = valid_rows


def write_exchange_rates(tenant, parsed: ParsedFile, run) -> tuple[int, int]:
    """Upsert the checked rates; return (created, updated), counting unchanged lines as updated."""
    rows = [
        {
            "currency": checked.currency,
            "rate_date": checked.rate_date,
            "rate": checked.rate,
            "source": checked.source,
        }
        for checked in (row["checked"] for _, row in parsed.rows)
    ]
    result = fx.exchange_rates_upsert(
        tenant=tenant, rows=rows, actor=run.created_by, source="import"
    )
    return result.created, result.updated + result.unchanged
