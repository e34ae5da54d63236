"""Deals import: columns, checks against stored deals, and the upsert."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from django.utils import timezone

from commissions.fx import deal_amounts_convert
from crm import parsing
from crm.importing.csvfile import Column, ParsedFile, reject_duplicates
from crm.models import Account, Deal, ImportRun
from crm.pipeline import deals_attribute
from crm.rules import (
    BOOKED_DEAL_MESSAGE,
    BOOKED_FIELDS,
    booked_field_changes,
)
from partners.models import Partner
from tenancy.queue import enqueue_on_commit

WRITE_BATCH_SIZE = 2000

DEAL_COLUMNS = (
    Column(
        "external_id",
        partial(parsing.parse_text, max_length=100),
        required=True,
        aliases=("opportunity_id",),
    ),
    Column("stage", parsing.parse_stage, required=True, aliases=("deal_stage",)),
    Column("account_external_id", partial(parsing.parse_text, max_length=100)),
    Column("account_domain", parsing.parse_domain),
    Column("amount", parsing.parse_decimal, aliases=("close_value",)),
    Column("currency", parsing.parse_currency),
    Column("close_date", parsing.parse_date),
    Column("engage_date", parsing.parse_date),
    Column("name", partial(parsing.parse_text, max_length=255)),
    Column("product", partial(parsing.parse_text, max_length=100)),
    Column("kind", parsing.parse_deal_kind, aliases=("deal_type", "deal_kind")),
    Column("owner", partial(parsing.parse_text, max_length=100), aliases=("sales_agent",)),
    Column("partner_external_id", partial(parsing.parse_text, max_length=100)),
)

DEAL_FIELDS = (
    "stage",
    "amount",
    "currency",
    "close_date",
    "engage_date",
    "name",
    "product",
    "kind",
    "owner",
)


def check_deals(tenant, parsed: ParsedFile) -> None:
    reject_duplicates(parsed, "external_id")
    account_ids = {
        row["account_external_id"] for _, row in parsed.rows if row.get("account_external_id")
    }
    account_domains = {row["account_domain"] for _, row in parsed.rows if row.get("account_domain")}
    partner_ids = {
        row["partner_external_id"] for _, row in parsed.rows if row.get("partner_external_id")
    }
    by_external_id = dict(
        Account.objects.filter(external_id__in=account_ids).values_list("external_id", "id")
    )
    by_domain = dict(Account.objects.filter(domain__in=account_domains).values_list("domain", "id"))
    partners = dict(
        Partner.objects.filter(external_id__in=partner_ids).values_list("external_id", "id")
    )
    stored = {
        deal["external_id"]: deal
        for deal in Deal.objects.filter(
            external_id__in=[row["external_id"] for _, row in parsed.rows]
        )
        # Locked so the pipeline cannot book one of these deals between this check
        # and the write below; its SKIP LOCKED query passes over them meanwhile.
        .select_for_update()
        .order_by("pk")
        .values("external_id", "pipeline_status", "partner_named", *BOOKED_FIELDS)
    }

    valid_rows = []
    for line, row in parsed.rows:
        existing = stored.get(row["external_id"])
        error = _deal_row_error(tenant, row, existing, by_external_id, by_domain, partners)
        if error is not None:
            parsed.reject(line, *error)
            continue
        valid_rows.append((line, row))
    parsed.rows = valid_rows


# The file column that carries each booked field, for error reports.
BOOKED_COLUMNS = {
    "account_id": "account_external_id",
    "partner_id": "partner_external_id",
}


def _deal_row_error(tenant, row, existing, by_external_id, by_domain, partners):
    """Resolve the row's account and partner ids in place; return (column, value, message)
    when the line cannot be imported."""
    account_id = None
    if row.get("account_external_id"):
        account_id = by_external_id.get(row["account_external_id"])
        if account_id is None:
            return (
                "account_external_id",
                row["account_external_id"],
                "No account has this external_id: import the account first.",
            )
    elif row.get("account_domain"):
        account_id = by_domain.get(row["account_domain"])
        if account_id is None:
            return (
                "account_domain",
                row["account_domain"],
                "No account has this domain: import the account first.",
            )
    elif existing is not None:
        account_id = existing["account_id"]
    partner_id = existing["partner_id"] if existing is not None else None
    partner_named = existing["partner_named"] if existing is not None else False
    if row.get("partner_external_id"):
        partner_named = True
        partner_id = partners.get(row["partner_external_id"])
        if partner_id is None:
            return (
                "partner_external_id",
                row["partner_external_id"],
                "No partner has this external_id: create the partner first or leave it empty.",
            )
    currency = row.get("currency") or tenant.base_currency
    if row["stage"] == Deal.Stage.WON:
        if account_id is None:
            return (
                "account_external_id",
                "",
                "A won deal needs its account: fill account_external_id or account_domain.",
            )
        if row.get("close_date") is None:
            return ("close_date", "", "A won deal needs its close_date: give it as YYYY-MM-DD.")
        if row["close_date"] > tenant.today():
            return (
                "close_date",
                row["close_date"].isoformat(),
                "A won deal cannot close in the future: give the date it was won.",
            )

    row["account_id"] = account_id
    row["partner_id"] = partner_id
    row["partner_named"] = partner_named
    row["currency"] = currency
    if "amount" in row and row["amount"] is None:
        row["amount"] = Decimal(0)
    if existing is not None and existing["pipeline_status"] == Deal.PipelineStatus.PROCESSED:
        incoming = {"account_id": account_id, "partner_id": partner_id, "currency": currency}
        incoming.update({name: row[name] for name in BOOKED_FIELDS if name in row})
        changed = booked_field_changes(existing, incoming)
        if changed:
            column = BOOKED_COLUMNS.get(changed[0], changed[0])
            return (column, str(row.get(column) or ""), BOOKED_DEAL_MESSAGE)
    return None


def write_deals(tenant, parsed: ParsedFile, run: ImportRun) -> tuple[int, int]:
    rows = [row for _, row in parsed.rows]
    existing = set(
        Deal.objects.filter(external_id__in=[row["external_id"] for row in rows]).values_list(
            "external_id", flat=True
        )
    )
    fields = [name for name in DEAL_FIELDS if name in parsed.columns]

    objects = []
    for row in rows:
        values = {name: row[name] for name in fields}
        values["currency"] = row["currency"]
        for text_field in ("name", "product", "owner"):
            if text_field in values and values[text_field] is None:
                values[text_field] = ""
        objects.append(
            Deal(
                tenant=tenant,
                external_id=row["external_id"],
                account_id=row["account_id"],
                partner_id=row["partner_id"],
                partner_named=row["partner_named"],
                **values,
            )
        )
    update_fields = [*{*fields, "currency"}, "account", "partner", "partner_named", "updated_at"]

    Deal.objects.bulk_create(
        objects,
        batch_size=WRITE_BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["tenant", "external_id"],
        update_fields=update_fields,
    )

    # Newly won deals, and won deals that failed before, enter the pipeline;
    # processed ones keep their status so a re-import never pays a commission twice.
    saved_ids = list(
        Deal.objects.filter(external_id__in=[row["external_id"] for row in rows]).values_list(
            "pk", flat=True
        )
    )
    deals_attribute(tenant=tenant, deal_ids=saved_ids)
    deal_amounts_convert(tenant=tenant, deal_ids=saved_ids)
    Deal.objects.filter(
        pk__in=saved_ids,
        stage=Deal.Stage.WON,
        pipeline_status__in=[Deal.PipelineStatus.NOT_APPLICABLE, Deal.PipelineStatus.FAILED],
    ).update(pipeline_status=Deal.PipelineStatus.PENDING, updated_at=timezone.now())
    # Reopened or lost before the pipeline reached them: nothing to pay.
    Deal.objects.filter(pk__in=saved_ids, pipeline_status=Deal.PipelineStatus.PENDING).exclude(
        stage=Deal.Stage.WON
    ).update(pipeline_status=Deal.PipelineStatus.NOT_APPLICABLE, updated_at=timezone.now())
    enqueue_follow_ups(tenant.pk)
    return len(rows) - len(existing), len(existing)


def enqueue_follow_ups(tenant_id: int) -> None:
    from crm.tasks import process_pending_deals_task

    enqueue_on_commit(process_pending_deals_task, tenant_id)
