"""Benchmark of the manager dashboard, the partner list and the partner portal at scale.

Run with `make bench-dashboard` (or `.venv/bin/python bench/dashboard.py
--accounts N --deals N`). It creates a throwaway tenant with scored accounts and
partners with scores and reach lists. Its won, lost and open deals come from
partners or direct, in three currencies with exchange rates. Each won partner deal
has an accrual, some accounts have churned, and
`reporting.services.partner_rollups_refresh` computes the partner roll-ups.

It then requests each page through django.test.Client, as a staff user and as a
partner user, a few times each, counts the SQL queries of each request, writes
bench/results-dashboard.md and deletes the tenant's rows.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import platform
import random
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

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from commissions.fx_models import ExchangeRate  # noqa: E402
from commissions.models import CommissionPlan, LedgerEntry, RevenueEvent  # noqa: E402
from crm.models import Account, Deal  # noqa: E402
from partners.models import Partner, PartnerScore, ReachEntry  # noqa: E402
from reporting.services import partner_rollups_refresh  # noqa: E402
from tenancy.models import Membership, Tenant  # noqa: E402
from tenancy.scope import tenant_scope  # noqa: E402

RESULTS_FILE = ROOT / "bench" / "results-dashboard.md"
BATCH = 5000
TIERS = ("A", "B", "C", "D", "")
PARTNER_TIERS = ("gold", "silver", "bronze", "")
PRODUCTS = ("GTX Pro", "GTX Basic", "Analytics", "")
# Units of USD per unit of the currency. Every tenth deal is in one of these.
RATES = {"EUR": Decimal("1.08"), "GBP": Decimal("1.27")}
LEDGER_STATUSES = ("pending", "pending", "approved", "paid", "held", "void")
# The pages timed, in order: (label, path, as the partner user, htmx fragment).
PAGES = (
    ("dashboard", "/", False, False),
    ("dashboard fragment", "/dashboard/live/", False, True),
    ("partners by won revenue", "/partners/?sort=-won_revenue", False, False),
    ("partners by score, searched", "/partners/?sort=score&q=bench", False, False),
    ("partner portal", "/partners/portal/", True, False),
    ("partner portal fragment", "/partners/portal/live/", True, True),
)


def create_accounts(tenant: Tenant, *, accounts: int, rng: random.Random) -> list[Account]:
    rows = []
    for start in range(0, accounts, BATCH):
        rows += Account.objects.bulk_create(
            Account(
                tenant=tenant,
                external_id=f"ba{number}",
                name=f"Bench account {number}",
                domain=f"bench{number}.example",
                fit_tier=(tier := rng.choice(TIERS)),
                fit_score=rng.randint(0, 100) if tier else None,
            )
            for number in range(start, min(start + BATCH, accounts))
        )
    return rows


def create_partners(
    tenant: Tenant, *, partners: int, accounts: list[Account], reach: int, rng: random.Random
) -> list[Partner]:
    rows = Partner.objects.bulk_create(
        Partner(
            tenant=tenant,
            external_id=f"bp{number}",
            name=f"Bench partner {number}" if number % 2 else f"Partner {number}",
            tier=rng.choice(PARTNER_TIERS),
        )
        for number in range(partners)
    )
    PartnerScore.objects.bulk_create(
        (
            PartnerScore(
                tenant=tenant,
                partner=partner,
                reach_count=reach,
                matched_count=(matched := rng.randint(0, reach)),
                on_profile_count=(on_profile := rng.randint(0, matched)),
                on_profile_share=Decimal(on_profile / matched if matched else 0).quantize(
                    Decimal("0.0001")
                ),
                overlap_score=rng.randint(0, 100),
                segment_basis=PartnerScore.SegmentBasis.OVERLAP_ONLY,
            )
            for partner in rows
        ),
        batch_size=BATCH,
    )
    entries = []
    for partner in rows:
        # Three in four entries match an account of the tenant, and the rest are new domains.
        for index, number in enumerate(rng.sample(range(len(accounts)), reach)):
            account = accounts[number] if index % 4 else None
            domain = account.domain if account else f"prospect{partner.pk}-{index}.example"
            entries.append(
                ReachEntry(
                    tenant=tenant,
                    partner=partner,
                    domain=domain,
                    company_name=f"Company {index}",
                    account=account,
                    fit_tier=(tier := rng.choice(TIERS)) if account is None else "",
                    fit_score=rng.randint(0, 100) if account is None and tier else None,
                )
            )
    ReachEntry.objects.bulk_create(entries, batch_size=BATCH)
    return rows


def create_deals(
    tenant: Tenant,
    *,
    deals: int,
    accounts: list[Account],
    partners: list[Partner],
    rng: random.Random,
) -> list[Deal]:
    today = tenant.today()
    rows = []
    for number in range(deals):
        account = rng.choice(accounts)
        roll = rng.random()
        stage = Deal.Stage.OPEN
        if roll < 0.5:
            stage = Deal.Stage.WON
        elif roll < 0.75:
            stage = Deal.Stage.LOST
        partner = rng.choice(partners) if rng.random() < 0.6 else None
        currency = "USD" if number % 10 else rng.choice(tuple(RATES))
        amount = Decimal(rng.randint(50_000, 5_000_000)) / 100
        won = stage == Deal.Stage.WON
        rows.append(
            Deal(
                tenant=tenant,
                external_id=f"bd{number}",
                account=account,
                partner=partner,
                source=Deal.Source.PARTNER if partner else Deal.Source.DIRECT,
                stage=stage,
                kind=rng.choice(("new", "new", "renewal", "expansion")),
                product=rng.choice(PRODUCTS),
                amount=amount,
                currency=currency,
                amount_base=None
                if currency == "USD"
                else (amount * RATES[currency]).quantize(Decimal("0.0001")),
                close_date=None
                if stage == Deal.Stage.OPEN
                else today - datetime.timedelta(rng.randint(0, 729)),
                pipeline_status=Deal.PipelineStatus.PROCESSED
                if won
                else Deal.PipelineStatus.NOT_APPLICABLE,
                won_fit_tier=account.fit_tier if won else "",
                won_fit_score=account.fit_score if won else None,
            )
        )
    for start in range(0, deals, BATCH):
        Deal.objects.bulk_create(rows[start : start + BATCH])
    return rows


def create_rates(tenant: Tenant) -> None:
    today = tenant.today()
    ExchangeRate.objects.bulk_create(
        ExchangeRate(
            tenant=tenant,
            currency=currency,
            rate_date=today - datetime.timedelta(days),
            rate=rate,
            source="bench",
        )
        for currency, rate in RATES.items()
        for days in range(0, 730, 7)
    )


def create_ledger(tenant: Tenant, deals: list[Deal], rng: random.Random) -> CommissionPlan:
    plan = CommissionPlan.objects.create(
        tenant=tenant, name="Bench plan", base_rate=Decimal("0.1000"), recurring_months=None
    )
    entries = [
        LedgerEntry(
            tenant=tenant,
            partner_id=deal.partner_id,
            deal=deal,
            plan=plan,
            kind=LedgerEntry.Kind.ACCRUAL,
            status=rng.choice(LEDGER_STATUSES),
            idempotency_key=f"accrual:deal:{deal.pk}",
            base_amount=deal.amount,
            rate=plan.base_rate,
            multiplier=Decimal(1),
            fit_tier=deal.won_fit_tier,
            fit_score=deal.won_fit_score,
            rate_source="default",
            deal_kind=deal.kind,
            amount=(deal.amount * plan.base_rate).quantize(Decimal("0.01"), ROUND_HALF_UP),
            currency=deal.currency,
        )
        for deal in deals
        if deal.stage == Deal.Stage.WON and deal.partner_id
    ]
    LedgerEntry.objects.bulk_create(entries, batch_size=BATCH)
    return plan


def create_churn(tenant: Tenant, accounts: list[Account], rng: random.Random) -> int:
    today = tenant.today()
    churned = rng.sample(accounts, len(accounts) // 20)
    for account in churned:
        account.churned_on = today - datetime.timedelta(rng.randint(0, 364))
    Account.objects.bulk_update(churned, ["churned_on"], batch_size=BATCH)
    RevenueEvent.objects.bulk_create(
        (
            RevenueEvent(
                tenant=tenant,
                external_id=f"bchurn{account.pk}",
                kind=RevenueEvent.Kind.CHURN,
                account=account,
                occurred_on=account.churned_on,
            )
            for account in churned[: len(churned) // 2]
        ),
        batch_size=BATCH,
    )
    return len(churned)


def create_users(tenant: Tenant, partner: Partner, stamp: str) -> tuple:
    users = get_user_model().objects
    staff = users.create_user(username=f"bench-staff-{stamp}", password=None)
    member = users.create_user(username=f"bench-partner-{stamp}", password=None)
    Membership.objects.create(tenant=tenant, user=staff, role=Membership.Role.ADMIN)
    Membership.objects.create(
        tenant=tenant, user=member, role=Membership.Role.PARTNER, partner=partner
    )
    return staff, member


def time_pages(staff, member, runs: int) -> list[dict]:
    # django.test.Client sends Host: testserver, which DJANGO_ALLOWED_HOSTS may leave
    # out. The test runner adds it the same way.
    if not {"testserver", "*"} & set(settings.ALLOWED_HOSTS):
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    clients = {False: Client(), True: Client()}
    clients[False].force_login(staff)
    clients[True].force_login(member)
    results = []
    for label, path, as_partner, htmx in PAGES:
        client = clients[as_partner]
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        # A first request, not timed, compiles the templates and fills the caches
        # that every later request finds warm in a running server.
        client.get(path, **headers)
        seconds = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(path, **headers)
                seconds.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"GET {path} returned status {response.status_code}, expected 200")
        results.append(
            {
                "label": label,
                "path": path,
                "median": statistics.median(seconds),
                "max": max(seconds),
                "queries": len(queries),
                "bytes": len(response.content),
            }
        )
        print(
            f"{label}: median {statistics.median(seconds):.3f} s, max {max(seconds):.3f} s, "
            f"{len(queries)} queries"
        )
    for client in clients.values():
        client.logout()
    return results


def delete_tenant(tenant: Tenant, users: list) -> None:
    # The ledger trigger rejects row deletes. The replica role skips it, and the
    # foreign key checks, for this session only, which needs the table owner's
    # rights, as in bench/pipeline.py. Every table with a tenant column is cleared.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'tenant_id' "
            "AND table_schema = current_schema() ORDER BY table_name"
        )
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute("SET session_replication_role = replica")
        for table in tables:
            cursor.execute(f'DELETE FROM "{table}" WHERE tenant_id = %s', [tenant.pk])  # noqa: S608
        cursor.execute("DELETE FROM tenancy_tenant WHERE id = %s", [tenant.pk])
        cursor.execute("SET session_replication_role = origin")
    for user in users:
        user.delete()


def result_lines(heading: str, results: list[dict]) -> list[str]:
    lines = [
        heading,
        "",
        "| page | path | median s | max s | SQL queries | bytes |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in results:
        lines.append(
            f"| {row['label']} | `{row['path']}` | {row['median']:.3f} | {row['max']:.3f} | "
            f"{row['queries']} | {row['bytes']:,} |"
        )
    return lines


def write_results(args, results: list[dict], setup_seconds: float, counts: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    load_before, load_after = args.load_before, os.getloadavg()[0]
    lines = [
        "# Dashboard and portal benchmark",
        "",
        f"Run on {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC by "
        f"`bench/dashboard.py` on {os.cpu_count()} cores, Python "
        f"{platform.python_version()} and PostgreSQL {postgres} on the same machine. "
        f"The load average (1 minute) was {load_before:.1f} before and {load_after:.1f} "
        "after; more than the number of cores means other processes competed for the CPU.",
        "",
        f"Synthetic tenant: {args.accounts:,} accounts with fit tiers and scores, "
        f"{args.deals:,} deals (half won, a quarter lost, a quarter open; 6 in 10 from "
        f"{args.partners} partners, the rest direct; 1 in 10 in EUR or GBP with weekly "
        f"exchange rates), {counts['reach']:,} reach entries, {counts['ledger']:,} "
        f"accruals of won partner deals, {counts['churned']:,} churned accounts (half "
        "with a churn event) and the partner roll-ups from "
        f"`partner_rollups_refresh`. Setup took {setup_seconds:.0f} s and is not timed.",
        "",
        f"Each page is requested once untimed, then {args.runs} times through "
        "`django.test.Client`, logged in as an admin or, for the portal, as a user of "
        "one partner; fragments carry `HX-Request`. The query count is that of the last request.",
        "",
        *result_lines("## Results", results),
        "",
    ]
    if args.before and RESULTS_FILE.exists():
        # Keep the earlier run's table below, so a change shows its effect.
        previous = RESULTS_FILE.read_text().split("\n## Results\n", 1)
        if len(previous) == 2:
            lines += [
                "## Before the last change",
                "",
                previous[1].split("\n## ", 1)[0].strip(),
                "",
            ]
    RESULTS_FILE.write_text("\n".join(lines))
    print(f"wrote {RESULTS_FILE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200_000, help="accounts to create")
    parser.add_argument("--deals", type=int, default=300_000, help="deals to create")
    parser.add_argument("--partners", type=int, default=500, help="partners to create")
    parser.add_argument("--reach", type=int, default=200, help="reach entries per partner")
    parser.add_argument("--runs", type=int, default=5, help="timed requests per page")
    parser.add_argument(
        "--before",
        action="store_true",
        help="keep the results table of the previous run as the 'before' table",
    )
    args = parser.parse_args()
    args.load_before = os.getloadavg()[0]
    # The pages' services log each call at INFO, which would bury the timings.
    logging.disable(logging.INFO)
    rng = random.Random(42)  # noqa: S311 - synthetic data, not security

    stamp = f"{time.time_ns()}"
    tenant = Tenant.objects.create(name=f"Dashboard bench {stamp}", slug=f"dash-bench-{stamp}")
    users = []
    try:
        with tenant_scope(tenant):
            started = time.perf_counter()
            accounts = create_accounts(tenant, accounts=args.accounts, rng=rng)
            partners = create_partners(
                tenant, partners=args.partners, accounts=accounts, reach=args.reach, rng=rng
            )
            create_rates(tenant)
            deals = create_deals(
                tenant, deals=args.deals, accounts=accounts, partners=partners, rng=rng
            )
            create_ledger(tenant, deals, rng)
            counts = {
                "reach": args.partners * args.reach,
                "ledger": LedgerEntry.objects.count(),
                "churned": create_churn(tenant, accounts, rng),
            }
            del deals, accounts
            partner_rollups_refresh()
            portal_partner = partners[0]
            portal_partner.mapping_visibility = Tenant.MappingVisibility.DETAILS
            portal_partner.save(update_fields=["mapping_visibility"])
            users = list(create_users(tenant, portal_partner, stamp))
            with connection.cursor() as cursor:
                for table in (
                    "crm_account", "crm_deal", "commissions_ledgerentry", "partners_partner",
                    "partners_partnerscore", "partners_reachentry", "reporting_partnerrollup",
                    "commissions_revenueevent", "commissions_exchangerate",
                ):  # fmt: skip
                    cursor.execute(f"ANALYZE {table}")
            setup_seconds = time.perf_counter() - started
            print(f"setup {setup_seconds:.1f} s")
        results = time_pages(users[0], users[1], args.runs)
        write_results(args, results, setup_seconds, counts)
    finally:
        delete_tenant(tenant, users)


if __name__ == "__main__":
    main()
