"""Benchmark a CSV import of a million deals: time and peak memory of each pass.

Run with `make bench-import` (or `.venv/bin/python bench/csv_import.py --deals N`).
It writes a synthetic deals file to a temporary folder line by line, imports its
accounts, then imports the deals strictly, dry-runs the same file and imports it
again (every row unchanged). It records the time of each step and the peak
resident memory of this process after it to bench/results-import.md, and deletes
the tenant's rows afterwards.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "track360.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from crm.importing.csvfile import FileFormat  # noqa: E402
from crm.importing.uploads import import_path  # noqa: E402
from tenancy.models import Tenant  # noqa: E402
from tenancy.scope import tenant_scope  # noqa: E402
from track360.celery import app as celery_app  # noqa: E402

RESULTS_FILE = ROOT / "bench" / "results-import.md"


def write_accounts(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("external_id,name,domain\n")
        for index in range(count):
            out.write(f"b{index},Company {index},company{index}.com\n")


def write_deals(path: Path, count: int, accounts: int, rng: random.Random) -> None:
    """Write a German-locale, semicolon-separated export with day-first dates."""
    start = datetime.date(2025, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Opportunity ID;Account;Stage;Amount;Close date;Notes\r\n")
        for index in range(count):
            stage = rng.choices(("Closed Lost", "Prospecting", "Closed Won"), weights=(5, 4, 1))[0]
            euros = rng.randint(100, 90_000)
            amount = f"{euros // 1000}.{euros % 1000:03d},{rng.randint(0, 99):02d}"
            if euros < 1000:
                amount = f"{euros},{rng.randint(0, 99):02d}"
            close = start + datetime.timedelta(days=rng.randint(0, 300))
            note = '"Call back; ask for ""Jo""' if index % 50 == 0 else ""
            if note:
                note += '"'
            out.write(
                f"d{index};b{rng.randrange(accounts)};{stage};{amount};{close:%d.%m.%Y};{note}\r\n"
            )


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, results: list, func, rows: int):
    started = time.perf_counter()
    run = func()
    seconds = time.perf_counter() - started
    results.append((label, seconds, rows / seconds, peak_mib(), run))
    print(
        f"{label:<36} {seconds:8.1f} s  {rows / seconds:10,.0f} rows/s  "
        f"peak {peak_mib():,.0f} MiB  {run.status} created={run.rows_created} "
        f"updated={run.rows_updated} unchanged={run.rows_unchanged} "
        f"rejected={run.rows_rejected}",
        flush=True,
    )
    return run


def delete_tenant(tenant: Tenant) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        for table in (
            "commissions_ledgerentry", "reporting_partnerrollup", "crm_deal", "crm_importrun",
            "crm_importmapping", "jobs_job", "tenancy_auditevent", "attribution_touch",
            "attribution_referral", "crm_account",
        ):  # fmt: skip
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
        cursor.execute("DELETE FROM tenancy_tenant WHERE id = %s", [tenant.pk])
        cursor.execute("SET session_replication_role = origin")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1_000_000, help="deal lines in the file")
    parser.add_argument("--accounts", type=int, default=20_000, help="accounts they belong to")
    args = parser.parse_args()

    # Follow-up tasks are sent to the broker, not run here, so only the import is timed.
    celery_app.conf.task_always_eager = False
    rng = random.Random(42)
    tenant = Tenant.objects.create(name="Import benchmark", slug=f"bench-import-{int(time.time())}")
    mapping = {
        "Opportunity ID": "external_id",
        "Account": "account_external_id",
        "Stage": "stage",
        "Amount": "amount",
        "Close date": "close_date",
        "Notes": "",
    }
    deals_format = FileFormat(locale="de", date_order="DMY", mapping=mapping)
    results: list = []
    with tempfile.TemporaryDirectory(prefix="track360-bench-import-") as folder:
        accounts_path = Path(folder) / "accounts.csv"
        deals_path = Path(folder) / "deals.csv"
        write_accounts(accounts_path, args.accounts)
        write_deals(deals_path, args.deals, args.accounts, rng)
        size_mib = deals_path.stat().st_size / 1024 / 1024
        print(f"deals file: {args.deals:,} lines, {size_mib:,.0f} MiB; peak {peak_mib():,.0f} MiB")
        before = peak_mib()
        try:
            with tenant_scope(tenant):
                import_path(
                    tenant=tenant, kind="accounts", path=accounts_path, file_format=FileFormat()
                )
                steps = (
                    ("import deals (strict)", {}),
                    ("dry run of the same file", {"dry_run": True}),
                    ("import the same file again", {}),
                )
                for label, options in steps:
                    timed(
                        label,
                        results,
                        lambda options=options: import_path(
                            tenant=tenant,
                            kind="deals",
                            path=deals_path,
                            file_format=deals_format,
                            **options,
                        ),
                        args.deals,
                    )
        finally:
            delete_tenant(tenant)

    lines = [
        "# CSV import benchmark",
        "",
        f"Run on {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC by "
        f"`bench/csv_import.py` with a {args.deals:,}-line deals file ({size_mib:,.0f} MiB, "
        "semicolons, German numbers, day-first dates, a saved column mapping) over "
        f"{args.accounts:,} accounts ({os.cpu_count()} cores shared with other work, "
        f"Python {platform.python_version()}). One run, so expect 10–30 % noise between runs.",
        "",
        "Each import reads the file twice (check pass, then write pass); a dry run once.",
        "Peak memory is the process's peak resident set size (`ru_maxrss`) after the step; "
        f"it was {before:,.0f} MiB after generating the files, before the first import.",
        "",
        "| step | seconds | lines/s | peak MiB | created | updated | unchanged |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *[
            f"| {label} | {seconds:.1f} | {rate:,.0f} | {peak:,.0f} | {run.rows_created:,} | "
            f"{run.rows_updated:,} | {run.rows_unchanged:,} |"
            for label, seconds, rate, peak, run in results
        ],
        "",
    ]
    RESULTS_FILE.write_text("\n".join(lines))
    print(f"wrote {RESULTS_FILE}")


if __name__ == "__main__":
    main()
