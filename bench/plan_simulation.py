"""Benchmark simulating a draft commission plan on a year of won partner deals.

Run with `make bench-simulation` (or `.venv/bin/python bench/plan_simulation.py
--deals N`). It creates a throwaway tenant with partners, which have segments and
tiers, and accounts. It adds N won partner-credited deals over the last 12 months:
new business first, then renewals and expansions of the same accounts, a few in
another currency or without a close date. Each deal gets one accrual. An active
plan has rules, and a draft has other multipliers, score bands and a cap per
partner and quarter.

It then times `commissions.simulation.plan_simulate` of the draft against the
active plan, counts its SQL queries, writes bench/results-simulation.md and
deletes the tenant's rows.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import resource
import statistics
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "track360.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from commissions.models import CommissionPlan, CommissionRule, LedgerEntry  # noqa: E402
from commissions.simulation import plan_simulate  # noqa: E402
from crm.models import Account, Deal  # noqa: E402
from partners.models import Partner, PartnerScore  # noqa: E402
from tenancy.models import Tenant  # noqa: E402
from tenancy.scope import tenant_scope  # noqa: E402

RESULTS_FILE = ROOT / "bench" / "results-simulation.md"
BATCH = 5000
TIERS = ("A", "B", "C", "D", "")
TIER_MULTIPLIERS = {"A": Decimal("1.50"), "B": Decimal("1.00"), "C": Decimal("0.50")}
SEGMENTS = ("strategic", "grow", "nurture", "deprioritise", "")
PARTNER_TIERS = ("gold", "silver", "bronze", "")
PRODUCTS = ("GTX Pro", "GTX Basic", "Analytics", "")


def create_program(tenant: Tenant, *, deals: int, partners: int, rng: random.Random) -> list[Deal]:
    today = tenant.today()
    partner_rows = Partner.objects.bulk_create(
        Partner(
            tenant=tenant,
            external_id=f"bp{number}",
            name=f"Bench partner {number}",
            tier=rng.choice(PARTNER_TIERS),
        )
        for number in range(partners)
    )
    PartnerScore.objects.bulk_create(
        PartnerScore(
            tenant=tenant,
            partner=partner,
            segment=segment,
            segment_basis=PartnerScore.SegmentBasis.OVERLAP_ONLY,
        )
        for partner in partner_rows
        if (segment := rng.choice(SEGMENTS))
    )
    # Seven in ten deals are new business, one per account; the rest renew or expand them.
    account_count = max(1, deals * 7 // 10)
    accounts = []
    for start in range(0, account_count, BATCH):
        accounts += Account.objects.bulk_create(
            Account(
                tenant=tenant,
                external_id=f"ba{number}",
                name=f"Bench account {number}",
                domain=f"bench{number}.example",
            )
            for number in range(start, min(start + BATCH, account_count))
        )
    owner = [rng.choice(partner_rows) for _ in accounts]
    deal_rows = []
    for number in range(deals):
        index = number % account_count
        first = number < account_count
        days_ago = rng.randint(180, 364) if first else rng.randint(0, 179)
        roll = rng.random()
        deal_rows.append(
            Deal(
                tenant=tenant,
                external_id=f"bd{number}",
                account=accounts[index],
                partner=owner[index],
                stage=Deal.Stage.WON,
                kind=Deal.Kind.NEW if first else rng.choice(("renewal", "expansion")),
                product=rng.choice(PRODUCTS),
                amount=Decimal(rng.randint(50_000, 5_000_000)) / 100,
                currency="EUR" if roll < 0.005 else "USD",
                close_date=None if 0.005 <= roll < 0.007 else today - datetime.timedelta(days_ago),
                source=Deal.Source.PARTNER,
                pipeline_status=Deal.PipelineStatus.PROCESSED,
                won_fit_tier=(tier := rng.choice(TIERS)),
                won_fit_score=None if not tier else rng.randint(0, 100),
            )
        )
    for start in range(0, deals, BATCH):
        Deal.objects.bulk_create(deal_rows[start : start + BATCH])
    return deal_rows


def create_accruals(plan: CommissionPlan, deals: list[Deal]) -> None:
    """Write one plain accrual per deal, 10 % × the tier multiplier, as the actual side."""
    entries = []
    for deal in deals:
        multiplier = TIER_MULTIPLIERS.get(deal.won_fit_tier, Decimal(0))
        entries.append(
            LedgerEntry(
                tenant_id=plan.tenant_id,
                partner_id=deal.partner_id,
                deal=deal,
                plan=plan,
                kind=LedgerEntry.Kind.ACCRUAL,
                idempotency_key=f"accrual:deal:{deal.pk}",
                base_amount=deal.amount,
                rate=plan.base_rate,
                multiplier=multiplier,
                fit_tier=deal.won_fit_tier,
                fit_score=deal.won_fit_score,
                rate_source="default",
                deal_kind=deal.kind,
                amount=(deal.amount * plan.base_rate * multiplier).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP
                ),
                currency=deal.currency,
            )
        )
    LedgerEntry.objects.bulk_create(entries, batch_size=BATCH)


def create_plans(tenant: Tenant, partners: list[int]) -> tuple[CommissionPlan, CommissionPlan]:
    active = CommissionPlan.objects.create(
        tenant=tenant, name="Bench active", base_rate=Decimal("0.1000"), recurring_months=None
    )
    draft = CommissionPlan.objects.create(
        tenant=tenant,
        name="Bench draft",
        is_active=False,
        is_draft=True,
        base_rate=Decimal("0.1000"),
        multiplier_a=Decimal("2.00"),
        score_bands=[{"min_score": 90, "multiplier": "1.20"}],
        partner_tier_multipliers={"gold": "1.10", "bronze": "0.90"},
        recurring_months=24,
        recurring_rate_frozen=False,
        cap_per_partner=Decimal("250000.00"),
        cap_period="quarter",
    )
    for plan in (active, draft):
        rules = [
            CommissionRule(tenant=tenant, plan=plan, scope="segment", value="strategic",
                           payout_type="percentage", rate=Decimal("0.1200")),
            CommissionRule(tenant=tenant, plan=plan, scope="partner_tier", value="gold",
                           payout_type="percentage", rate=Decimal("0.1100")),
            CommissionRule(tenant=tenant, plan=plan, scope="product", value="GTX Pro",
                           payout_type="percentage", rate=Decimal("0.1500")),
            CommissionRule(tenant=tenant, plan=plan, scope="program", deal_kind="renewal",
                           payout_type="percentage", rate=Decimal("0.0500")),
        ]  # fmt: skip
        rules += [
            CommissionRule(
                tenant=tenant,
                plan=plan,
                scope="partner",
                partner_id=partner_id,
                payout_type="flat",
                flat_amount=Decimal("400.00"),
            )
            for partner_id in partners[:20]
        ]
        CommissionRule.objects.bulk_create(rules)
    return active, draft


def delete_tenant(tenant: Tenant) -> None:
    # The ledger trigger rejects row deletes; the replica role skips it for this
    # session only, which needs the table owner's rights, as in bench/pipeline.py.
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        for table in (
            "commissions_ledgerentry", "commissions_commissionrule", "partners_partnerscore",
            "crm_deal", "tenancy_auditevent", "commissions_commissionplan", "partners_partner",
            "crm_account",
        ):  # fmt: skip
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
        cursor.execute("DELETE FROM tenancy_tenant WHERE id = %s", [tenant.pk])
        cursor.execute("SET session_replication_role = origin")


def peak_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_results(args, runs: list[dict], report: dict, setup_seconds: float) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    load_before, load_after = args.load_before, os.getloadavg()[0]
    seconds = [run["seconds"] for run in runs]
    totals = report["totals"]
    skipped = {row["reason"]: row["deals"] for row in report["skipped"]}
    lines = [
        "# Plan simulation benchmark",
        "",
        f"Run on {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC by "
        f"`bench/plan_simulation.py` on {os.cpu_count()} cores, Python "
        f"{platform.python_version()} and PostgreSQL {postgres} on the same machine. "
        f"The load average (1 minute) was {load_before:.1f} before and {load_after:.1f} "
        "after; more than the number of cores means other processes competed for the CPU.",
        "",
        f"Synthetic tenant: {args.deals:,} won partner deals over the last 12 months "
        f"({args.partners} partners, 7 in 10 deals new business and the rest renewals or "
        "expansions of the same accounts), one accrual per deal, an active plan with "
        "segment, partner tier, product, program and 20 partner rules, and a draft with a "
        "higher tier A multiplier, a score band, partner tier multipliers, renewals priced "
        f"by its own rules and a cap per partner and quarter. Setup took {setup_seconds:.0f} s "
        "and is not timed below.",
        "",
        "Each run is one `plan_simulate(plan=draft, months=12)` call in this process: it "
        "reads the deals, partners, segments, original accruals, booked ledger sums and "
        "revenue events with one query each, then prices every deal under both plans in "
        "Python.",
        "",
        "| run | seconds | deals priced/s (both plans) | SQL queries |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for number, run in enumerate(runs, 1):
        rate = totals["deals"] / run["seconds"]
        lines.append(f"| {number} | {run['seconds']:.2f} | {rate:,.0f} | {run['queries']} |")
    lines += [
        "",
        f"Median {statistics.median(seconds):.2f} s. Peak resident memory of the process "
        f"{peak_mib():,.0f} MiB, setup included.",
        "",
        f"The report: {totals['deals']:,} deals priced, {skipped.get('currency_mismatch', 0)} "
        f"skipped for their currency and {skipped.get('no_close_date', 0)} without a close "
        f"date; simulated cost {totals['simulated']}, active plan {totals['active']}, booked "
        f"{totals['actual_accrued']} {report['currency']}.",
        "",
    ]
    RESULTS_FILE.write_text("\n".join(lines))
    print(f"wrote {RESULTS_FILE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000, help="won partner deals")
    parser.add_argument("--partners", type=int, default=500, help="partners")
    parser.add_argument("--runs", type=int, default=3, help="timed simulations")
    args = parser.parse_args()
    args.load_before = os.getloadavg()[0]
    rng = random.Random(42)  # noqa: S311 - synthetic data, not security

    stamp = f"{time.time_ns()}"
    tenant = Tenant.objects.create(name=f"Simulation bench {stamp}", slug=f"sim-bench-{stamp}")
    try:
        with tenant_scope(tenant):
            started = time.perf_counter()
            deals = create_program(tenant, deals=args.deals, partners=args.partners, rng=rng)
            partner_ids = sorted({deal.partner_id for deal in deals})
            active, draft = create_plans(tenant, partner_ids)
            create_accruals(active, deals)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE crm_deal")
                cursor.execute("ANALYZE commissions_ledgerentry")
            setup_seconds = time.perf_counter() - started
            print(f"setup {setup_seconds:.1f} s")
            runs = []
            for _ in range(args.runs):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    report = plan_simulate(plan=draft, months=12)
                    seconds = time.perf_counter() - started
                runs.append({"seconds": seconds, "queries": len(queries)})
                print(f"simulation {seconds:.2f} s, {len(queries)} queries")
            write_results(args, runs, report, setup_seconds)
    finally:
        delete_tenant(tenant)


if __name__ == "__main__":
    main()
