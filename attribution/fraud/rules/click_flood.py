"""Click floods: too many clicks on a partner's links from one source, or in one hour.

- From one source: more than CLICK_FLOOD_MAX_CLICKS clicks with one ip_hash, or
  one visitor_id, on one partner's links inside any CLICK_FLOOD_WINDOW span, both
  ends included. Empty sources are skipped. One signal per partner, source and
  fixed CLICK_FLOOD_WINDOW-long period from the Unix epoch in which the count
  went over, keyed `click_flood:<ip|visitor>:<partner id>:<period start>:<source>`.
- Hourly spike: a partner's clicks in one clock hour (UTC) are more than
  CLICK_SPIKE_MIN_CLICKS and more than CLICK_SPIKE_FACTOR times the median of its
  hourly counts over the CLICK_SPIKE_BASELINE before, where hours without clicks
  count as 0. One signal per partner and hour, keyed
  `click_flood:spike:partner:<id>:<hour start>`.

With `since` set, the rules read clicks from CLICK_FLOOD_WINDOW, or the spike
baseline, before it, and report only windows and hours that end at or after it.
"""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict

from django.db import connection

from attribution.fraud.rules.base import RuleInput, iso, plural, utc_minute
from attribution.fraud.signals import EPOCH, SignalCandidate, bucket_label, bucket_start
from attribution.fraud.thresholds import (
    CLICK_FLOOD_MAX_CLICKS,
    CLICK_FLOOD_WINDOW,
    CLICK_SPIKE_BASELINE,
    CLICK_SPIKE_FACTOR,
    CLICK_SPIKE_MIN_CLICKS,
)
from attribution.models import FraudSignal

HOUR = datetime.timedelta(hours=1)
SOURCE_LABELS = {"ip_hash": "network address", "visitor_id": "visitor"}
# Short names in idempotency keys, which must fit 120 characters with a 64-character hash.
SOURCE_KEYS = {"ip_hash": "ip", "visitor_id": "visitor"}

SOURCE_WINDOWS_SQL = """
    SELECT c.partner_id, '{source}' AS source_kind, c.{source} AS source, c.clicked_at,
           count(*) OVER (PARTITION BY c.partner_id, c.{source} ORDER BY c.clicked_at
                          RANGE BETWEEN %(span)s PRECEDING AND CURRENT ROW) AS clicks
      FROM attribution_click AS c
     WHERE c.tenant_id = %(tenant_id)s AND c.partner_id = ANY(%(partner_ids)s)
       AND c.{source} <> '' {read_from}
"""
FLOODS_SQL = """
    SELECT partner_id, source_kind, source,
           date_bin(%(span)s, clicked_at, %(epoch)s) AS period,
           max(clicks), count(*), min(clicked_at), max(clicked_at)
      FROM ({ip_hash} UNION ALL {visitor_id}) AS windows
     WHERE clicks > %(max_clicks)s {since}
     GROUP BY 1, 2, 3, 4
     ORDER BY 1, 4, 2, 3
"""
HOURLY_SQL = """
    SELECT partner_id, date_bin(%(hour)s, clicked_at, %(epoch)s) AS hour, count(*)
      FROM attribution_click
     WHERE tenant_id = %(tenant_id)s AND partner_id = ANY(%(partner_ids)s) {read_from}
     GROUP BY 1, 2
"""


def click_flood_signals(scan: RuleInput) -> list[SignalCandidate]:
    """Return signals for sources that clicked a partner's links too often in a short span."""
    read_from = "AND c.clicked_at >= %(read_from)s" if scan.since is not None else ""
    sql = FLOODS_SQL.format(
        ip_hash=SOURCE_WINDOWS_SQL.format(source="ip_hash", read_from=read_from),
        visitor_id=SOURCE_WINDOWS_SQL.format(source="visitor_id", read_from=read_from),
        since="AND clicked_at >= %(since)s" if scan.since is not None else "",
    )
    params = {
        "tenant_id": scan.tenant_id,
        "partner_ids": list(scan.partner_ids),
        "span": CLICK_FLOOD_WINDOW,
        "epoch": EPOCH,
        "max_clicks": CLICK_FLOOD_MAX_CLICKS,
        "since": scan.since,
        "read_from": scan.since - CLICK_FLOOD_WINDOW if scan.since is not None else None,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()

    minutes = int(CLICK_FLOOD_WINDOW.total_seconds() // 60)
    candidates = []
    for partner_id, source_kind, source, period, peak, over, first_at, last_at in rows:
        label = bucket_label(period, CLICK_FLOOD_WINDOW)
        candidates.append(
            SignalCandidate(
                kind=FraudSignal.Kind.CLICK_FLOOD,
                partner_id=partner_id,
                idempotency_key=f"click_flood:{SOURCE_KEYS[source_kind]}:{partner_id}:{label}:{source}",
                summary=(
                    f"{plural(peak, 'click')} from one {SOURCE_LABELS[source_kind]} on this "
                    f"partner's links within {minutes} minutes, in the period from "
                    f"{utc_minute(period)} (threshold: more than {CLICK_FLOOD_MAX_CLICKS})."
                ),
                details={
                    "evidence": "source",
                    "source_kind": source_kind,
                    "source": source,
                    "window_minutes": minutes,
                    "period_start": iso(period),
                    "peak_clicks": peak,
                    "clicks_over_threshold": over,
                    "first_over_at": iso(first_at),
                    "last_over_at": iso(last_at),
                },
            )
        )
    return candidates


def click_spike_signals(scan: RuleInput) -> list[SignalCandidate]:
    """Return signals for hours in which a partner's clicks jumped far above its usual rate."""
    first_hour = bucket_start(scan.since, HOUR) if scan.since is not None else None
    read_from = "AND clicked_at >= %(read_from)s" if first_hour is not None else ""
    params = {
        "tenant_id": scan.tenant_id,
        "partner_ids": list(scan.partner_ids),
        "hour": HOUR,
        "epoch": EPOCH,
        "read_from": first_hour - CLICK_SPIKE_BASELINE if first_hour is not None else None,
    }
    hourly: dict[int, dict[datetime.datetime, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(HOURLY_SQL.format(read_from=read_from), params)
        for partner_id, hour, clicks in cursor.fetchall():
            hourly[partner_id][hour] = clicks

    baseline_hours = int(CLICK_SPIKE_BASELINE / HOUR)
    candidates = []
    for partner_id, counts in sorted(hourly.items()):
        for hour, clicks in sorted(counts.items()):
            if clicks <= CLICK_SPIKE_MIN_CLICKS or (first_hour is not None and hour < first_hour):
                continue
            baseline = [counts.get(hour - HOUR * step, 0) for step in range(1, baseline_hours + 1)]
            median = statistics.median(baseline)
            if clicks <= CLICK_SPIKE_FACTOR * median:
                continue
            candidates.append(_spike(partner_id, hour, clicks, median))
    return candidates


def _spike(partner_id: int, hour: datetime.datetime, clicks: int, median) -> SignalCandidate:
    label = bucket_label(hour, HOUR)
    return SignalCandidate(
        kind=FraudSignal.Kind.CLICK_FLOOD,
        partner_id=partner_id,
        idempotency_key=f"click_flood:spike:partner:{partner_id}:{label}",
        summary=(
            f"{plural(clicks, 'click')} in the hour from {utc_minute(hour)}, against a median "
            f"of {median:g} an hour in the {CLICK_SPIKE_BASELINE.days} days before "
            f"(thresholds: more than {CLICK_SPIKE_FACTOR}× the median and more than "
            f"{CLICK_SPIKE_MIN_CLICKS} clicks)."
        ),
        details={
            "evidence": "spike",
            "hour_start": iso(hour),
            "clicks": clicks,
            "baseline_median": float(median),
            "baseline_days": CLICK_SPIKE_BASELINE.days,
        },
    )
