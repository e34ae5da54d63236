"""Accounts import: columns, checks against stored accounts, and the upsert."""

from __future__ import annotations

from functools import partial

from attribution.referrals import referrals_link_accounts
from crm import parsing
from crm.importing.csvfile import Column, ParsedFile, reject_duplicates
from crm.models import Account, ImportRun
from tenancy.queue import enqueue_on_commit

WRITE_BATCH_SIZE = 2000

ACCOUNT_COLUMNS = (
    Column(
        "external_id", partial(parsing.parse_text, max_length=100), required=True, aliases=("id",)
    ),
    Column(
        "name", partial(parsing.parse_text, max_length=255), required=True, aliases=("account",)
    ),
    Column("domain", parsing.parse_domain, aliases=("website",)),
    Column("industry", partial(parsing.parse_text, max_length=100), aliases=("sector",)),
    Column("employees", partial(parsing.parse_int, maximum=10_000_000)),
    Column("annual_revenue", parsing.parse_decimal, aliases=("revenue",)),
    Column("country", parsing.parse_country, aliases=("office_location",)),
    Column("region", partial(parsing.parse_text, max_length=100), aliases=("state",)),
    Column("year_established", partial(parsing.parse_int, minimum=1600, maximum=2100)),
    Column("parent_name", partial(parsing.parse_text, max_length=255), aliases=("subsidiary_of",)),
    Column("tech_stack", parsing.parse_list),
    Column("budget", parsing.parse_decimal),
    Column("triggers", parsing.parse_triggers, aliases=("buying_triggers",)),
    Column("churned_on", parsing.parse_date),
)


ACCOUNT_FIELDS = (
    "name",
    "domain",
    "industry",
    "employees",
    "annual_revenue",
    "country",
    "region",
    "year_established",
    "parent_name",
    "tech_stack",
    "budget",
    "triggers",
    "churned_on",
)


def check_accounts(tenant, parsed: ParsedFile) -> None:
    reject_duplicates(parsed, "external_id")
    reject_duplicates(parsed, "domain")
    domains = {row["domain"]: row["external_id"] for _, row in parsed.rows if row.get("domain")}
    domain_owners = dict(
        Account.objects.filter(domain__in=domains).values_list("domain", "external_id")
    )
    valid_rows = []
    for line, row in parsed.rows:
        owner = domain_owners.get(row.get("domain", ""))
        if owner is not None and owner != row["external_id"]:
            parsed.reject(
                line,
                "domain",
                row["domain"],
                f"Domain already belongs to account {owner!r}: fix the domain or the external_id.",
            )
            continue
        valid_rows.append((line, row))
    parsed.rows = valid_rows


def write_accounts(tenant, parsed: ParsedFile, run: ImportRun) -> tuple[int, int]:
    return accounts_write(tenant, parsed, source=f"import:{run.pk}")


def accounts_write(tenant, parsed: ParsedFile, *, source: str) -> tuple[int, int]:
    """Upsert the checked rows by external id; return (created, updated).

    `source` is recorded on the accounts this creates.
    """
    rows = [row for _, row in parsed.rows]
    existing = set(
        Account.objects.filter(external_id__in=[row["external_id"] for row in rows]).values_list(
            "external_id", flat=True
        )
    )
    fields = [name for name in ACCOUNT_FIELDS if name in parsed.columns]
    objects = []
    for row in rows:
        values = {name: row[name] for name in fields}
        values = {
            name: (
                ""
                if value is None
                and name in ("domain", "industry", "country", "region", "parent_name")
                else value
            )
            for name, value in values.items()
        }
        objects.append(
            Account(tenant=tenant, external_id=row["external_id"], source=source, **values)
        )
    written = Account.objects.bulk_create(
        objects,
        batch_size=WRITE_BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["tenant", "external_id"],
        update_fields=[*fields, "updated_at"],
    )
    if "domain" in fields:
        # Registrations made before the account existed, or under its old domain,
        # follow the account's domain now.
        referrals_link_accounts(tenant=tenant, account_ids=[account.pk for account in written])
    enqueue_follow_ups(tenant.pk)
    return len(rows) - len(existing), len(existing)


def enqueue_follow_ups(tenant_id: int) -> None:
    from crm.tasks import refresh_after_account_import_task

    enqueue_on_commit(refresh_after_account_import_task, tenant_id)
