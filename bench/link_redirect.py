"""Benchmark tracking links: redirect latency and how fast the worker writes queued clicks.

Run with `make bench-links` (or `.venv/bin/python bench/link_redirect.py`). It creates
a throwaway tenant with one partner and one tracking link, then measures:

  (a) the redirect /r/<code> with the link in the Redis cache, through Django's test
      client in this process: the full middleware stack, the cookie, the queued click;
  (b) the same redirect when the cache misses on every request, so each one reads the
      link from PostgreSQL;
  (c) the drain of N click records pushed onto the queue, written in batches;
  (d) the drain of the same N records pushed again. This is what a crash before the
      acknowledgement leads to, and every record is a duplicate that writes nothing.

It writes the figures to bench/results-links.md and deletes the tenant's rows and
its Redis keys afterwards. It refuses to run while clicks wait in the queue, so it
never writes someone else's clicks.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "track360.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from attribution import clickqueue  # noqa: E402
from attribution.clicks import click_record, clicks_drain, visitor_id_new  # noqa: E402
from attribution.links import link_create, link_for_code  # noqa: E402
from partners.models import Partner  # noqa: E402
from tenancy.models import Tenant  # noqa: E402
from tenancy.scope import tenant_scope  # noqa: E402

RESULTS_FILE = ROOT / "bench" / "results-links.md"
TENANT_SLUG = "bench-links"
PUSH_PIPELINE_SIZE = 1000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def time_redirects(client: Client, code: str, count: int, *, cold: bool) -> list[float]:
    """Return the milliseconds of `count` redirects; `cold` empties the link cache first."""
    redis = clickqueue.client()
    durations = []
    for _ in range(count):
        client.cookies.clear()
        if cold:
            redis.delete(f"{clickqueue.LINK_KEY_PREFIX}{code}")
        started = time.perf_counter()
        response = client.get(f"/r/{code}?utm_source=bench")
        durations.append((time.perf_counter() - started) * 1000)
        if response.status_code != 302:
            raise SystemExit(f"redirect returned {response.status_code}, expected 302")
    return durations


def push_records(link, count: int) -> list[bytes]:
    """Queue `count` click records as the redirect would; return them for a replay."""
    cached = link_for_code(link.code)
    meta = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": "bench/1.0"}
    records = []
    redis = clickqueue.client()
    pipe = redis.pipeline(transaction=False)
    for index in range(count):
        record = click_record(link=cached, visitor_id=visitor_id_new(), meta=meta)
        raw = clickqueue.json.dumps(record, separators=(",", ":")).encode()
        records.append(raw)
        pipe.lpush(clickqueue.QUEUE_KEY, raw)
        if (index + 1) % PUSH_PIPELINE_SIZE == 0:
            pipe.execute()
    pipe.execute()
    return records


def time_drain(batch_size: int) -> tuple[float, object]:
    started = time.perf_counter()
    result = clicks_drain(batch_size=batch_size)
    return time.perf_counter() - started, result


def delete_tenant(tenant: Tenant) -> None:
    with connection.cursor() as cursor:
        for table in (
            "attribution_touch",
            "attribution_click",
            "attribution_trackinglink",
            "tenancy_auditevent",
            "partners_partner",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
        cursor.execute("DELETE FROM tenancy_tenant WHERE id = %s", [tenant.pk])


def summary_row(label: str, durations: list[float]) -> str:
    return (
        f"| {label} | {len(durations):,} | {statistics.median(durations):.2f} | "
        f"{percentile(durations, 0.95):.2f} | {percentile(durations, 0.99):.2f} | "
        f"{1000 * len(durations) / sum(durations):,.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redirects", type=int, default=5000, help="timed cached redirects")
    parser.add_argument("--cold-redirects", type=int, default=1000, help="timed cache misses")
    parser.add_argument("--clicks", type=int, default=100_000, help="click records to drain")
    parser.add_argument("--batch-size", type=int, default=settings.TRACK360_CLICK_DRAIN_BATCH)
    args = parser.parse_args()

    queued, processing = clickqueue.lengths()
    if queued or processing:
        raise SystemExit(
            f"{queued + processing} clicks wait in Redis at {settings.REDIS_URL}: stop the "
            "worker's beat or run `manage.py drain_clicks` first, then run this again."
        )
    load_before = os.getloadavg()[0]
    Tenant.objects.filter(slug=TENANT_SLUG).delete()
    tenant = Tenant.objects.create(
        name="Link benchmark", slug=TENANT_SLUG, link_domains=["example.com"]
    )
    try:
        with tenant_scope(tenant):
            partner = Partner.objects.create(tenant=tenant, external_id="bench", name="Bench")
            link = link_create(partner=partner, destination="https://www.example.com/landing")
        client = Client()
        time_redirects(client, link.code, 200, cold=False)
        warm = time_redirects(client, link.code, args.redirects, cold=False)
        cold = time_redirects(client, link.code, args.cold_redirects, cold=True)
        clickqueue.client().delete(clickqueue.QUEUE_KEY)

        started = time.perf_counter()
        records = push_records(link, args.clicks)
        push_seconds = time.perf_counter() - started
        drain_seconds, drained = time_drain(args.batch_size)
        pipe = clickqueue.client().pipeline(transaction=False)
        for raw in records:
            pipe.lpush(clickqueue.QUEUE_KEY, raw)
        pipe.execute()
        replay_seconds, replayed = time_drain(args.batch_size)
    finally:
        clickqueue.client().delete(
            clickqueue.QUEUE_KEY, clickqueue.PROCESSING_KEY, clickqueue.DRAIN_LOCK_KEY
        )
        delete_tenant(tenant)

    load_after = os.getloadavg()[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        postgres = cursor.fetchone()[0].split(" on ")[0]
    redis_version = clickqueue.client().info("server")["redis_version"]
    lines = [
        "# Tracking link benchmark",
        "",
        f"Run on {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC by "
        f"`bench/link_redirect.py` on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {postgres} and Redis {redis_version} on the same "
        "machine. One run, so expect 10–30 % noise between runs. The load average (1 "
        f"minute) was {load_before:.1f} before and {load_after:.1f} after; on "
        f"{os.cpu_count()} cores, more than {os.cpu_count()} means other processes competed "
        "for the CPU.",
        "",
        "## Redirect",
        "",
        "Each request goes through Django's test client in the benchmark process, with the "
        "whole middleware stack, a new visitor (so the cookie is set) and a `utm_source` "
        "parameter to forward; the click is pushed to the Redis queue. There is no network "
        "hop and no WSGI server, so a deployment adds those to these figures.",
        "",
        "| case | requests | p50 ms | p95 ms | p99 ms | requests/s, one thread |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        summary_row("link in the Redis cache: no database query", warm),
        summary_row("cache miss on every request: one indexed SELECT", cold),
        "",
        "## Drain",
        "",
        f"{args.clicks:,} click records of one link pushed onto the queue "
        f"({push_seconds:.1f} s to push, not timed below), then written by `clicks_drain` in "
        f"batches of {args.batch_size:,}: one `INSERT … SELECT FROM unnest(…) ON CONFLICT "
        "DO NOTHING` per batch, each in its own transaction and acknowledged after commit.",
        "",
        "| run | records | written | duplicates | seconds | records/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| fresh clicks | {drained.read:,} | {drained.written:,} | {drained.duplicates:,} | "
        f"{drain_seconds:.2f} | {drained.read / drain_seconds:,.0f} |",
        f"| the same records again (a replay) | {replayed.read:,} | {replayed.written:,} | "
        f"{replayed.duplicates:,} | {replay_seconds:.2f} | "
        f"{replayed.read / replay_seconds:,.0f} |",
        "",
    ]
    RESULTS_FILE.write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"wrote {RESULTS_FILE}")


if __name__ == "__main__":
    main()
