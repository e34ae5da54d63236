"""Benchmark the bulk upsert endpoints with 10,000 rows per request.

Run with `make bench-bulk` (or `.venv/bin/python bench/bulk_upsert.py --rows N`).
It creates a throwaway tenant with an API key and partners, then sends requests
through Django's test client. Each timing covers the whole request: API key
check, JSON parsing, field validation, the checks against stored rows, the
set-based writes and the response. It times accounts created, deals created
(one in five won, credited to a partner), the same deals sent again (unchanged),
the deals with new amounts (updated), and a replay of that request by its
Idempotency-Key. It counts SQL queries, writes bench/results-bulk.md and deletes
the tenant's rows.

Won deals enqueue one pipeline task after commit, as in production. Like
bench/pipeline.py, the script sends it to the broker in REDIS_URL and does not
run it, so the pipeline's cost is not included here (bench/results.md has it).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "track360.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from crm.models import Account, Deal  # noqa: E402
from partners.models import Partner  # noqa: E402
from tenancy.models import Tenant  # noqa: E402
from tenancy.scope import tenant_scope  # noqa: E402
from tenancy.services import api_key_create  # noqa: E402
from track360.celery import app as celery_app  # noqa: E402

RESULTS_FILE = ROOT / "bench" / "results-bulk.md"
INDUSTRIES = ("software", "fintech", "retail", "health", "logistics")
COUNTRIES = ("US", "DE", "GB", "FR", "NL")
PARTNERS = 50


def account_rows(count: int, rng: random.Random) -> list[dict]:
    return [
        {
            "external_id": f"acc-{index}",
            "name": f"Company {index}",
            "domain": f"company-{index}.com",
            "industry": rng.choice(INDUSTRIES),
            "employees": rng.randint(5, 20_000),
            "annual_revenue": f"{rng.randint(100_000, 90_000_000)}.00",
            "country": rng.choice(COUNTRIES),
            "tech_stack": rng.sample(["Salesforce", "HubSpot", "Snowflake", "AWS"], 2),
            "triggers": {"funding": "2026-06-01"} if index % 7 == 0 else {},
        }
        for index in range(count)
    ]


def deal_rows(count: int, accounts: int, rng: random.Random, *, amount_step: int = 0) -> list:
    rows = []
    for index in range(count):
        won = index % 5 == 0
        row = {
            "external_id": f"deal-{index}",
            "stage": "won" if won else rng.choice(("open", "lost")),
            "amount": f"{1000 + (index % 900) * 10 + amount_step}.00",
            "currency": "USD",
            "close_date": "2026-03-01",
            "name": f"Deal {index}",
            "account_external_id": f"acc-{rng.randrange(accounts)}",
        }
        if won:
            row["partner_external_id"] = f"p-{index % PARTNERS}"
        rows.append(row)
    return rows


def timed_post(client: Client, url: str, body: dict, headers: dict) -> dict:
    payload = json.dumps(body)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.post(url, payload, content_type="application/json", headers=headers)
        seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{url} returned {response.status_code}: {response.content[:500]!r}")
    return {
        "seconds": seconds,
        "queries": len(queries),
        "counts": response.json()["counts"],
        "replayed": response.headers.get("Idempotent-Replayed") == "true",
        "body_bytes": len(payload),
    }


def delete_tenant(tenant: Tenant) -> None:
    with connection.cursor() as cursor:
        for table in ("crm_deal", "crm_account", "partners_partner", "tenancy_idempotencyrecord",
                      "tenancy_auditevent", "tenancy_apikey"):  # fmt: skip
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
        cursor.execute("DELETE FROM tenancy_tenant WHERE id = %s", [tenant.pk])


def write_results(args, steps: list[tuple[str, int, dict]]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    load_after = os.getloadavg()[0]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        "# Bulk upsert benchmark",
        "",
        f"Run on {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC by "
        f"`bench/bulk_upsert.py` on {os.cpu_count()} cores, Python "
        f"{platform.python_version()} and PostgreSQL {postgres} on the same machine. "
        f"The load average (1 minute) was {args.load_before:.1f} before and {load_after:.1f} "
        "after; more than the number of cores means other processes competed for the CPU.",
        "",
        f"Each step is one request of {args.rows:,} rows in atomic mode through Django's test "
        "client in this process, so it includes authentication, JSON parsing, validation of "
        "every row, the checks against stored rows, the writes and the response, but no "
        "network or WSGI server. One in five deals is won and credited to one of "
        f"{PARTNERS} partners. Each step's rows are committed before the next step starts.",
        "",
        "| step | rows | seconds | rows/s | SQL queries | created | updated | unchanged |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, rows, run in steps:
        counts = run["counts"]
        lines.append(
            f"| {label} | {rows:,} | {run['seconds']:.2f} | {rows / run['seconds']:,.0f} | "
            f"{run['queries']} | {counts['created']:,} | {counts['updated']:,} | "
            f"{counts['unchanged']:,} |"
        )
    deal_bytes = steps[1][2]["body_bytes"]
    lines += [
        "",
        f"The deals request body is {deal_bytes / 1024:,.0f} KiB. Peak resident memory of "
        f"the benchmark process: {peak_mib:,.0f} MiB. The replay returns the stored response "
        "of the previous step without running the request again.",
        "",
    ]
    RESULTS_FILE.write_text("\n".join(lines))
    print(f"wrote {RESULTS_FILE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows per request")
    args = parser.parse_args()
    args.load_before = os.getloadavg()[0]

    # Leave the pipeline task on the broker instead of running it inside the timings.
    celery_app.conf.task_always_eager = False
    rng = random.Random(42)  # noqa: S311 - synthetic data, not security
    stamp = f"{time.time_ns()}"
    tenant = Tenant.objects.create(name=f"Bulk bench {stamp}", slug=f"bulk-bench-{stamp}")
    try:
        with tenant_scope(tenant):
            Partner.objects.bulk_create(
                Partner(tenant=tenant, external_id=f"p-{index}", name=f"Partner {index}")
                for index in range(PARTNERS)
            )
        _, raw_key = api_key_create(tenant=tenant, name="bench")
        headers = {"Authorization": f"Api-Key {raw_key}"}
        client = Client()
        accounts = account_rows(args.rows, rng)
        deals = deal_rows(args.rows, args.rows, rng)
        changed = deal_rows(args.rows, args.rows, random.Random(42), amount_step=1)  # noqa: S311

        # The first request imports modules and fills caches; it is not timed.
        warm_up = {"mode": "atomic", "rows": [{"external_id": "warm-up", "name": "Warm-up"}]}
        timed_post(client, "/api/v1/accounts/bulk/", warm_up, headers)

        steps = []
        for label, url, rows, extra in (
            ("accounts created", "/api/v1/accounts/bulk/", accounts, {}),
            ("deals created", "/api/v1/deals/bulk/", deals, {}),
            ("deals sent again", "/api/v1/deals/bulk/", deals, {}),
            ("deals updated", "/api/v1/deals/bulk/", changed, {"Idempotency-Key": "bench"}),
            ("deals updated, replayed", "/api/v1/deals/bulk/", changed,
             {"Idempotency-Key": "bench"}),
        ):  # fmt: skip
            run = timed_post(client, url, {"mode": "atomic", "rows": rows}, {**headers, **extra})
            print(f"{label}: {run['seconds']:.2f} s, {run['queries']} queries, {run['counts']}")
            steps.append((label, len(rows), run))

        with tenant_scope(tenant):
            assert Account.objects.count() == args.rows + 1
            assert Deal.objects.count() == args.rows
        write_results(args, steps)
    finally:
        delete_tenant(tenant)


if __name__ == "__main__":
    main()
