"""Benchmark bulk ICP rescoring: activation, a second version, a no-op and aged triggers.

Run with `make bench-icp` (or `.venv/bin/python bench/icp_rescore.py --accounts N`).
It creates a throwaway tenant with N synthetic accounts (written with COPY) and
some open and won deals, then times four rescores, each through a rescore job run
in this process (Celery eager):

  (a) activate a first version: every account gets a new fit;
  (b) activate a second version: the score or tier changes for part of the accounts,
      and fit_version changes for all of them, so every row is written again;
  (c) rescore again under the same version: nothing changes, nothing is written;
  (d) the next day: buying-trigger dates move one day back, as if a day passed, and
      only the accounts whose trigger left its window change.

It records wall seconds, accounts per second, rows written, the seconds per phase
and the peak resident memory of this Python process, writes them to
bench/results-icp-rescore.md and deletes the tenant's rows afterwards.
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "track360.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from icp import rescoring  # noqa: E402
from icp.services import icp_version_activate, icp_version_create  # noqa: E402
from jobs.models import Job  # noqa: E402
from jobs.selectors import job_latest  # noqa: E402
from tenancy.models import Tenant  # noqa: E402
from tenancy.scope import tenant_scope  # noqa: E402
from track360.celery import app as celery_app  # noqa: E402

RESULTS_FILE = ROOT / "bench" / "results-icp-rescore.md"
GENERATE_BATCH = 100_000

INDUSTRIES = (
    ("software", 18),
    ("finance", 10),
    ("medical", 9),
    ("retail", 12),
    ("manufacturing", 11),
    ("services", 10),
    ("marketing", 6),
    ("education", 5),
    ("logistics", 6),
    ("energy", 4),
    ("media", 5),
    ("government", 4),
)
COUNTRIES = (
    ("US", 35),
    ("GB", 9),
    ("DE", 9),
    ("FR", 6),
    ("CA", 5),
    ("NL", 4),
    ("JP", 5),
    ("BR", 5),
    ("IN", 7),
    ("AU", 4),
    ("ES", 3),
    ("IT", 3),
    ("SE", 2),
    ("RU", 2),
    ("IR", 1),
)
TECHNOLOGIES = (
    "salesforce", "hubspot", "snowflake", "aws", "azure", "gcp", "slack", "jira",
    "zendesk", "shopify", "stripe", "sap", "oracle", "workday", "tableau", "looker",
    "datadog", "okta", "github", "gitlab", "kubernetes", "postgresql", "mongodb",
    "segment", "marketo", "intercom", "twilio", "netsuite", "dynamics", "servicenow",
)  # fmt: skip
TRIGGERS = ("funding", "new_cto", "hiring_spree", "expansion")

VERSION_ONE = [
    {
        "key": "industry",
        "kind": "category",
        "field": "industry",
        "values": ["software", "finance", "medical"],
        "weight": 30,
    },
    {"key": "size", "kind": "range", "field": "employees", "min": 200, "max": 5000, "weight": 20},
    {
        "key": "stack",
        "kind": "tech_stack",
        "field": "tech_stack",
        "values": ["salesforce", "snowflake", "hubspot"],
        "match": "any",
        "weight": 20,
    },
    {"key": "funding", "kind": "trigger", "trigger": "funding", "within_days": 180, "weight": 15},
    {
        "key": "budget",
        "kind": "willingness_to_pay",
        "field": "budget",
        "min": 50_000,
        "max": None,
        "weight": 15,
    },
    {
        "key": "sanctioned",
        "kind": "category",
        "field": "country",
        "values": ["RU", "IR"],
        "knockout": True,
    },
]
# The second version widens the size band, requires two technologies of a longer
# list, tests deal size instead of budget and adds a second trigger.
VERSION_TWO = [
    VERSION_ONE[0],
    {"key": "size", "kind": "range", "field": "employees", "min": 100, "max": 10_000, "weight": 20},
    {
        "key": "stack",
        "kind": "tech_stack",
        "field": "tech_stack",
        "values": ["salesforce", "snowflake", "hubspot", "segment", "looker"],
        "match": "at_least",
        "count": 2,
        "weight": 20,
    },
    VERSION_ONE[3],
    {"key": "hiring", "kind": "trigger", "trigger": "hiring_spree", "within_days": 90, "weight": 5},
    {
        "key": "deal_size",
        "kind": "willingness_to_pay",
        "field": "deal_size",
        "min": 20_000,
        "max": None,
        "weight": 10,
    },
    VERSION_ONE[5],
]
CUTOFFS = {"A": 70, "B": 45, "C": 20}


def weighted_choice(rng: np.random.Generator, options, count: int) -> np.ndarray:
    names = np.array([name for name, _ in options], dtype=object)
    weights = np.array([weight for _, weight in options], dtype="float64")
    return names[rng.choice(len(names), size=count, p=weights / weights.sum())]


def tech_stack_pool(rng: np.random.Generator, size: int = 2000) -> np.ndarray:
    """Return `size` JSON tech-stack lists; popular technologies appear more often."""
    popularity = 1 / np.arange(1, len(TECHNOLOGIES) + 1)
    popularity /= popularity.sum()
    pool = []
    for _ in range(size):
        count = int(rng.integers(1, 7))
        picked = rng.choice(len(TECHNOLOGIES), size=count, replace=False, p=popularity)
        # Some stacks come in odd case, as CRM exports often do.
        names = [
            TECHNOLOGIES[index].title() if rng.random() < 0.1 else TECHNOLOGIES[index]
            for index in picked
        ]
        pool.append("[" + ", ".join(f'"{name}"' for name in names) + "]")
    return np.array(pool, dtype=object)


def accounts_batch(
    rng: np.random.Generator,
    tenant: Tenant,
    start: int,
    count: int,
    stacks: np.ndarray,
    today: datetime.date,
) -> bytes:
    """Return `count` accounts as COPY CSV rows, numbered from `start`."""
    numbers = np.arange(start, start + count)
    industry = weighted_choice(rng, INDUSTRIES, count)
    industry[rng.random(count) < 0.03] = ""
    odd = rng.random(count) < 0.02
    industry[odd] = np.char.add(" ", np.char.title(industry[odd].astype(str))).astype(object)
    country = weighted_choice(rng, COUNTRIES, count)
    country[rng.random(count) < 0.02] = ""

    employees = np.maximum(1, rng.lognormal(4.5, 1.8, count)).astype("int64")
    revenue = employees * rng.lognormal(11.9, 0.6, count)
    founded = rng.integers(1950, 2025, count)
    budget = rng.lognormal(10.5, 1.2, count)
    text = {
        "employees": employees.astype(str).astype(object),
        "revenue": np.char.mod("%.2f", revenue).astype(object),
        "founded": founded.astype(str).astype(object),
        "budget": np.char.mod("%.2f", budget).astype(object),
    }
    text["employees"][rng.random(count) < 0.05] = ""
    text["revenue"][rng.random(count) < 0.10] = ""
    text["founded"][rng.random(count) < 0.08] = ""
    text["budget"][rng.random(count) < 0.60] = ""

    tech = stacks[rng.integers(0, len(stacks), count)]
    tech[rng.random(count) < 0.2] = "[]"

    # About a third of the accounts carry buying triggers from the last two years.
    triggers = np.full(count, "{}", dtype=object)
    for name, share in (("funding", 0.2), ("hiring_spree", 0.15), ("new_cto", 0.05)):
        has = np.flatnonzero(rng.random(count) < share)
        days = rng.integers(0, 730, len(has))
        dates = [(today - datetime.timedelta(days=int(day))).isoformat() for day in days]
        for index, day in zip(has, dates, strict=True):
            entry = f'"{name}": "{day}"'
            current = triggers[index]
            triggers[index] = (
                "{" + entry + "}" if current == "{}" else current[:-1] + ", " + entry + "}"
            )

    out = io.StringIO()
    now = datetime.datetime.now(datetime.UTC).isoformat()
    for position in range(count):
        number = numbers[position]
        tech_value = tech[position].replace('"', '""')
        trigger_value = triggers[position].replace('"', '""')
        out.write(
            f"{now},{now},{tenant.pk},b{number},Company {number},company{number}.example,"
            f'"{industry[position]}",{text["employees"][position]},{text["revenue"][position]},'
            f'"{country[position]}","",{text["founded"][position]},"",'
            f'"{tech_value}",{{}},bench,"","{trigger_value}",{text["budget"][position]}\n'
        )
    return out.getvalue().encode()


ACCOUNT_COPY = (
    "COPY crm_account (created_at, updated_at, tenant_id, external_id, name, domain, "
    "industry, employees, annual_revenue, country, region, year_established, parent_name, "
    "tech_stack, attributes, source, fit_tier, triggers, budget) FROM STDIN (FORMAT csv)"
)


def create_accounts(tenant: Tenant, count: int, rng: np.random.Generator) -> None:
    stacks = tech_stack_pool(rng)
    today = tenant.today()
    with connection.cursor() as cursor:
        for start in range(0, count, GENERATE_BATCH):
            size = min(GENERATE_BATCH, count - start)
            batch = accounts_batch(rng, tenant, start, size, stacks, today)
            with cursor.cursor.copy(ACCOUNT_COPY) as copy:
                copy.write(batch)


def create_deals(tenant_id: int, share: float) -> int:
    """Give a share of the accounts one to three open or won deals; return how many."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            "INSERT INTO crm_deal (created_at, updated_at, tenant_id, external_id, account_id, "
            "name, product, owner, stage, amount, currency, close_date, source, pipeline_status, "
            "won_fit_tier, partner_named, pipeline_error) "
            "SELECT now(), now(), a.tenant_id, 'd' || a.id || '-' || n, a.id, '', '', '', "
            "CASE WHEN random() < 0.6 THEN 'won' ELSE 'open' END, "
            "round((exp(9.5 + random() * 2.5))::numeric, 2), 'USD', current_date, 'direct', "
            "'processed', '', false, '' "
            "FROM crm_account AS a "
            "CROSS JOIN LATERAL generate_series(1, 1 + (a.id %% 3)::int) AS n "
            "WHERE a.tenant_id = %s AND random() < %s",
            [tenant_id, share],
        )
        return cursor.rowcount


def delete_tenant(tenant: Tenant) -> None:
    # The replica role skips foreign-key triggers for this session, which makes
    # deleting a million accounts quick. It needs superuser rights, as in bench/pipeline.py.
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        for table in ("jobs_job", "tenancy_auditevent", "partners_partnerscore", "crm_deal"):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
        cursor.execute(
            "UPDATE crm_account SET fit_version_id = NULL WHERE tenant_id = %s", [tenant.pk]
        )
        for table in ("icp_icpversion", "crm_account"):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
        cursor.execute("DELETE FROM tenancy_tenant WHERE id = %s", [tenant.pk])
        cursor.execute("SET session_replication_role = origin")


def peak_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def snapshot_fits(tenant: Tenant) -> None:
    """Copy the tenant's scores and tiers aside, to count later how many changed."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_fit_before")
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_fit_before AS "
            "SELECT id, fit_score, fit_tier FROM crm_account WHERE tenant_id = %s",
            [tenant.pk],
        )


def count_fit_changes(tenant: Tenant) -> int:
    """Count the accounts whose score or tier differs from the last snapshot."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM crm_account AS a JOIN bench_fit_before AS b ON b.id = a.id "
            "WHERE a.tenant_id = %s AND (a.fit_score IS DISTINCT FROM b.fit_score "
            "OR a.fit_tier IS DISTINCT FROM b.fit_tier)",
            [tenant.pk],
        )
        return cursor.fetchone()[0]


def run_scenario(label: str, tenant: Tenant, version, start) -> dict:
    """Run `start` (which queues a rescore job), then read the finished job's figures."""
    snapshot_fits(tenant)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    start()
    seconds = time.perf_counter() - started
    load_after = os.getloadavg()[0]
    job = job_latest(
        tenant=tenant, kind=Job.Kind.ICP_RESCORE, subject=rescoring.job_subject(version.pk)
    )
    if job is None or job.status != Job.Status.SUCCEEDED:
        raise RuntimeError(f"{label}: the rescore job did not succeed: {job and job.message}")
    row = {
        "label": label,
        "seconds": seconds,
        "scanned": job.result["accounts_scanned"],
        "written": job.result["accounts_changed"],
        "phases": job.result["account_phases"],
        "peak_mib": peak_mib(),
        "fit_changes": count_fit_changes(tenant),
        "load": (load_before, load_after),
    }
    row["rate"] = row["scanned"] / seconds
    phases = ", ".join(f"{name} {value:.2f}" for name, value in row["phases"].items())
    print(
        f"{label:<46} {seconds:6.2f} s  {row['rate']:>9,.0f} accounts/s  "
        f"{row['written']:>9,} written ({row['fit_changes']:,} new scores or tiers)  "
        f"peak {row['peak_mib']:,.0f} MiB  load {load_before:.1f}-{load_after:.1f}  ({phases})",
        flush=True,
    )
    return row


def rescore_again(tenant: Tenant, version) -> None:
    with transaction.atomic():
        rescoring.rescore_job_enqueue(tenant=tenant, version=version)


def age_triggers_one_day(tenant: Tenant) -> None:
    """Move every buying-trigger date one day back, as if a day had passed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE crm_account SET triggers = (SELECT jsonb_object_agg(key, "
            "to_char(value::date - 1, 'YYYY-MM-DD')) FROM jsonb_each_text(triggers)) "
            "WHERE tenant_id = %s AND triggers <> '{}'::jsonb",
            [tenant.pk],
        )


def postgres_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def write_results(args, rows: list[dict], setup_seconds: float, deals: int) -> None:
    lines = [
        "# ICP rescoring benchmark",
        "",
        f"Run on {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC by "
        f"`bench/icp_rescore.py --accounts {args.accounts}` with {args.accounts:,} accounts, "
        f"{deals:,} open or won deals and chunks of {rescoring.CHUNK_SIZE:,} rows, on "
        f"{os.cpu_count()} cores, PostgreSQL {postgres_version()} on the same machine, "
        f"Python {platform.python_version()}.",
        f"Creating the data took {setup_seconds:.0f} s (not timed below).",
        "One run, so expect 10–30 % noise between runs.",
        "",
        "Each row is one rescore job run to the end in the benchmark process: accounts, "
        "then partner scores and roll-ups (the tenant has no partners). Seconds are wall "
        "time from the request to the finished job.",
        "",
        "| rescore | seconds | accounts/s | rows written | new score or tier | COPY out | parse "
        "| score | write | peak memory | load average |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        phases = row["phases"]
        lines.append(
            f"| {row['label']} | {row['seconds']:.2f} | {row['rate']:,.0f} | "
            f"{row['written']:,} | {row['fit_changes']:,} | {phases['copy_out']:.2f} | "
            f"{phases['parse']:.2f} | {phases['score']:.2f} | {phases['write']:.2f} | "
            f"{row['peak_mib']:,.0f} MiB | {row['load'][0]:.1f} to {row['load'][1]:.1f} |"
        )
    lines += [
        "",
        "Phases are seconds inside the account rescore: COPY out of PostgreSQL, parsing "
        "the CSV into frames, scoring, and writing (binary COPY into a temporary table "
        "and one UPDATE per chunk, committed per chunk). A second thread reads, parses "
        "and scores the next chunk while the current one is written, so the phases "
        "overlap and add up to more than the wall time; the write phase includes any "
        "wait for the next chunk.",
        "Rows written counts every account whose score, tier or fit version changed: "
        "under a new version every fit names that version, so every row is written even "
        "where the score and tier stay the same. The next column counts the accounts "
        "whose score or tier changed.",
        "The load average (1 minute, from the operating system) before and after each "
        "run shows how busy the machine was; on 2 cores, anything above 2 means other "
        "processes were competing for the CPU.",
        "The write phase is PostgreSQL updating rows. crm_account has no index on the fit "
        "columns and a fill factor of 75, so a fit update can stay on its page without "
        "new index entries (a HOT update) while the page has room.",
        "Peak memory is the peak resident set size of the benchmark's Python process "
        "since it started (ru_maxrss), so each row includes the rows above it. It "
        "excludes PostgreSQL's own memory.",
        "",
    ]
    RESULTS_FILE.write_text("\n".join(lines))
    print(f"wrote {RESULTS_FILE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--accounts", type=int, default=1_000_000, help="synthetic accounts (default 1,000,000)"
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=rescoring.CHUNK_SIZE,
        help=f"accounts per rescore chunk (default {rescoring.CHUNK_SIZE:,})",
    )
    parser.add_argument(
        "--deal-share",
        type=float,
        default=0.1,
        help="share of accounts with open or won deals, 0 to 1 (default 0.1)",
    )
    args = parser.parse_args()
    if args.accounts < 1 or args.chunk_size < 1 or not 0 <= args.deal_share <= 1:
        parser.error("--accounts and --chunk-size must be positive, --deal-share from 0 to 1")
    rescoring.CHUNK_SIZE = args.chunk_size
    # Rescore jobs run here as soon as their activation commits, not in a worker.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True

    rng = np.random.default_rng(42)
    tenant = Tenant.objects.create(
        name="ICP rescore benchmark", slug=f"bench-icp-{int(time.time())}"
    )
    rows = []
    try:
        setup_started = time.perf_counter()
        create_accounts(tenant, args.accounts, rng)
        deals = create_deals(tenant.pk, args.deal_share)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE crm_account")
            cursor.execute("ANALYZE crm_deal")
        with tenant_scope(tenant):
            first = icp_version_create(
                tenant=tenant, name="Bench v1", criteria=VERSION_ONE, tier_cutoffs=CUTOFFS
            )
            second = icp_version_create(
                tenant=tenant, name="Bench v2", criteria=VERSION_TWO, tier_cutoffs=CUTOFFS
            )
        setup_seconds = time.perf_counter() - setup_started
        print(f"created {args.accounts:,} accounts and {deals:,} deals in {setup_seconds:.0f} s")

        rows.append(
            run_scenario(
                "(a) activate v1: first full rescore",
                tenant,
                first,
                lambda: icp_version_activate(version=first),
            )
        )
        rows.append(
            run_scenario(
                "(b) activate v2: part of the fits change",
                tenant,
                second,
                lambda: icp_version_activate(version=second),
            )
        )
        rows.append(
            run_scenario(
                "(c) rescore v2 again: nothing changes",
                tenant,
                second,
                lambda: rescore_again(tenant, second),
            )
        )
        age_triggers_one_day(tenant)
        rows.append(
            run_scenario(
                "(d) rescore v2 a day later: triggers aged",
                tenant,
                second,
                lambda: rescore_again(tenant, second),
            )
        )
    finally:
        delete_tenant(tenant)
    write_results(args, rows, setup_seconds, deals)


if __name__ == "__main__":
    main()
