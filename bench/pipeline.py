"""Benchmark the bulk path: CSV import, ICP learning, rescoring and the won-deal pipeline.

Run with `make bench` (or `.venv/bin/python bench/pipeline.py --accounts N --deals N`).
It creates a throwaway tenant with synthetic accounts and deals, times each step,
records the peak resident memory of this process, writes the figures to
bench/results.md, and deletes the tenant's rows afterwards.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import io
import os
import platform
import random
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "track360.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from commissions.plans import commission_plan_activate  # noqa: E402
from crm.importing import csv_import  # noqa: E402
from crm.pipeline import deals_process  # noqa: E402
from icp import rescoring  # noqa: E402
from icp import services as icp_services  # noqa: E402
from partners import services as partner_services  # noqa: E402
from tenancy.models import Tenant  # noqa: E402
from tenancy.scope import tenant_scope  # noqa: E402
from track360.celery import app as celery_app  # noqa: E402

INDUSTRIES = ("software", "retail", "medical", "finance", "marketing", "services")
COUNTRIES = ("US", "DE", "GB", "FR", "JP", "BR")
RESULTS_FILE = ROOT / "bench" / "results.md"
referrals_migration = importlib.import_module(
    "attribution.migrations.0003_registrations_from_account_referrals"
)


def accounts_csv(count: int, rng: random.Random) -> bytes:
    out = io.StringIO()
    out.write("external_id,name,domain,industry,employees,annual_revenue,country\n")
    for index in range(count):
        employees = int(rng.lognormvariate(6, 1.5))
        revenue = Decimal(employees * rng.randint(50_000, 400_000))
        out.write(
            f"b{index},Company {index},company{index}.com,{rng.choice(INDUSTRIES)},"
            f"{employees},{revenue},{rng.choice(COUNTRIES)}\n"
        )
    return out.getvalue().encode()


def deals_csv(count: int, accounts: int, rng: random.Random) -> bytes:
    out = io.StringIO()
    out.write("external_id,account_external_id,stage,amount,close_date\n")
    start = datetime.date(2025, 1, 1)
    for index in range(count):
        stage = rng.choices(("won", "lost", "open"), weights=(5, 3, 2))[0]
        amount = f"{rng.randint(100, 50_000)}.{rng.randint(0, 99):02d}" if stage == "won" else "0"
        close = start + datetime.timedelta(days=rng.randint(0, 364))
        out.write(f"d{index},b{rng.randrange(accounts)},{stage},{amount},{close}\n")
    return out.getvalue().encode()


def timed(label: str, results: list, func, rows: int | None = None):
    started = time.perf_counter()
    value = func()
    seconds = time.perf_counter() - started
    rate = f"{rows / seconds:,.0f} rows/s" if rows else ""
    results.append((label, seconds, rate))
    print(f"{label:<40} {seconds:8.2f} s  {rate}", flush=True)
    return value


def delete_tenant(tenant: Tenant) -> None:
    # The ledger trigger rejects row deletes; TRUNCATE-free cleanup disables it for
    # this session only, which needs the table owner's rights.
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        for table in (
            "commissions_ledgerentry", "reporting_partnerrollup", "partners_partnerscore",
            "partners_reachentry", "crm_deal", "crm_importrun", "tenancy_auditevent",
            "tenancy_apikey", "commissions_commissionplan", "attribution_touch",
            "attribution_referral",
        ):  # fmt: skip
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
        cursor.execute("UPDATE crm_account SET referred_by_id = NULL, fit_version_id = NULL "
                       "WHERE tenant_id = %s", [tenant.pk])  # fmt: skip
        for table in ("partners_partner", "icp_icpversion", "crm_account"):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
        cursor.execute("DELETE FROM tenancy_tenant WHERE id = %s", [tenant.pk])
        cursor.execute("SET session_replication_role = origin")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000, help="synthetic accounts")
    parser.add_argument("--deals", type=int, default=100_000, help="synthetic deals")
    args = parser.parse_args()

    # Run the pipeline here, timed, rather than in a worker that may not be running.
    celery_app.conf.task_always_eager = False
    rng = random.Random(42)
    accounts = accounts_csv(args.accounts, rng)
    deals = deals_csv(args.deals, args.accounts, rng)
    slug = f"bench-{int(time.time())}"
    tenant = Tenant.objects.create(name="Benchmark", slug=slug)
    results: list = []
    try:
        with tenant_scope(tenant):
            timed(
                "import accounts (strict)",
                results,
                lambda: csv_import(
                    tenant=tenant, kind="accounts", content=accounts, filename="a.csv"
                ),
                args.accounts,
            )
            timed(
                "import deals (strict)",
                results,
                lambda: csv_import(tenant=tenant, kind="deals", content=deals, filename="d.csv"),
                args.deals,
            )
            version = timed(
                "learn ICP from closed deals",
                results,
                lambda: icp_services.icp_learn(tenant=tenant),
            )
            timed(
                "activate ICP and rescore all accounts",
                results,
                lambda: rescoring.version_rescore_now(
                    tenant=tenant, version=icp_services.icp_version_activate(version=version)
                ),
                args.accounts,
            )
            commission_plan_activate(tenant=tenant, name="Bench", base_rate=Decimal("0.1"))
            partner, _ = partner_services.partner_upsert(tenant=tenant, external_id="p", name="P")
            from crm.models import Account

            Account.objects.filter(external_id__endswith="7").update(
                referred_by=partner, referred_at=datetime.date(2025, 1, 1)
            )
            # Attribution reads registrations and their touches, so these referrers
            # become registrations the way the migration from account referrers does it.
            referrals_migration.registrations_from_account_referrals(
                None, SimpleNamespace(connection=connection)
            )
            won = sum(1 for line in deals.splitlines() if b",won," in line)
            timed(
                "process pending won deals",
                results,
                lambda: deals_process(tenant_id=tenant.pk),
                won,
            )
            timed(
                "refresh partner scores",
                results,
                lambda: partner_services.partner_scores_refresh(tenant=tenant),
            )
    finally:
        delete_tenant(tenant)

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        "# Bulk pipeline benchmark",
        "",
        f"Run on {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC by `bench/pipeline.py` "
        f"with {args.accounts:,} accounts and {args.deals:,} deals "
        f"({os.cpu_count()} cores, Python {platform.python_version()}).",
        "One run, so expect 10–30 % noise between runs.",
        "",
        "| step | seconds | throughput |",
        "| --- | ---: | ---: |",
        *[f"| {label} | {seconds:.2f} | {rate} |" for label, seconds, rate in results],
        "",
        f"Peak resident memory of the benchmark process: {peak_mib:,.0f} MiB.",
        "",
    ]
    RESULTS_FILE.write_text("\n".join(lines))
    print(f"wrote {RESULTS_FILE}")


if __name__ == "__main__":
    main()
