"""Registration bursts: many registrations by one partner in a short span.

Both rules slide a window over each partner's registrations that are not
rejected, ordered by registration time. Each registration ends one window that
reaches back the rule's span, both ends included. A window that meets the
thresholds is evidence, and the signal is keyed by the partner and the fixed
period (the span's length, counted from the Unix epoch) in which the window
ends. One signal per partner and period therefore covers a burst, and a burst
that goes on into the next period raises a new one.

- Off-profile burst: at least OFF_PROFILE_MIN_REGISTRATIONS registrations in
  OFF_PROFILE_WINDOW, of which at least OFF_PROFILE_MIN_PERCENT percent had fit
  tier C or D when registered. Registrations without a tier count in the total
  only.
- Footprintless burst: in FOOTPRINTLESS_WINDOW, at least
  FOOTPRINTLESS_MIN_UNKNOWN registrations of companies unknown to the CRM. A
  company is unknown without an account with its domain, or when that account
  has no industry, employees, annual revenue and country. The rule also flags
  at least FOOTPRINTLESS_MIN_BARE registrations with no account, no company name
  and no contact e-mail.

The windows read all of a partner's registrations, a human-scale number.
"""

from __future__ import annotations

import datetime

from django.db import connection

from attribution.fraud.rules.base import RuleInput, iso, plural, utc_minute
from attribution.fraud.signals import SignalCandidate, bucket_label
from attribution.fraud.thresholds import (
    FOOTPRINTLESS_MIN_BARE,
    FOOTPRINTLESS_MIN_UNKNOWN,
    FOOTPRINTLESS_WINDOW,
    OFF_PROFILE_MIN_PERCENT,
    OFF_PROFILE_MIN_REGISTRATIONS,
    OFF_PROFILE_WINDOW,
)
from attribution.models import FraudSignal, Referral

OFF_PROFILE_TIERS = ("C", "D")
# Registration ids listed in a signal's details; the counts are always complete.
MAX_LISTED = 100

WINDOWS_SQL = """
    SELECT id, partner_id, registered_at, created_at, total, flagged, ids
      FROM (
        SELECT r.id, r.partner_id, r.registered_at, r.created_at,
               count(*) OVER w AS total,
               count(*) FILTER (WHERE {flag}) OVER w AS flagged,
               array_agg(r.id) FILTER (WHERE {flag}) OVER w AS ids
          FROM attribution_referral AS r
          LEFT JOIN crm_account AS a ON a.tenant_id = r.tenant_id AND a.domain = r.domain
         WHERE r.tenant_id = %(tenant_id)s AND r.partner_id = ANY(%(partner_ids)s)
           AND r.status <> %(rejected)s
        WINDOW w AS (PARTITION BY r.partner_id ORDER BY r.registered_at
                     RANGE BETWEEN %(span)s PRECEDING AND CURRENT ROW)
      ) AS windows
     WHERE {threshold} {since}
     ORDER BY partner_id, registered_at, id
"""
SINCE_SQL = "AND (registered_at >= %(since)s OR created_at >= %(since)s)"
OFF_PROFILE_FLAG = "r.fit_tier = ANY(%(off_profile_tiers)s)"
UNKNOWN_FLAG = (
    "(a.id IS NULL OR (a.industry = '' AND a.employees IS NULL "
    "AND a.annual_revenue IS NULL AND a.country = ''))"
)
BARE_FLAG = "(a.id IS NULL AND r.company_name = '' AND r.contact_email = '')"


def _windows(scan: RuleInput, *, flag: str, threshold: str, span, extra: dict) -> list[tuple]:
    """Return the flagged windows: one row per registration whose window meets `threshold`."""
    sql = WINDOWS_SQL.format(
        flag=flag, threshold=threshold, since=SINCE_SQL if scan.since is not None else ""
    )
    params = {
        "tenant_id": scan.tenant_id,
        "partner_ids": list(scan.partner_ids),
        "rejected": Referral.Status.REJECTED,
        "span": span,
        "since": scan.since,
        **extra,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _strongest_per_bucket(rows: list[tuple], span: datetime.timedelta) -> dict[tuple, tuple]:
    """Keep, per partner and period, the window with the most flagged registrations."""
    strongest: dict[tuple, tuple] = {}
    for row in rows:
        key = (row[1], bucket_label(row[2], span))
        if key not in strongest or row[5] > strongest[key][5]:
            strongest[key] = row
    return strongest


def off_profile_burst_signals(scan: RuleInput) -> list[SignalCandidate]:
    """Return signals for windows with many registrations, mostly tier C or D."""
    rows = _windows(
        scan,
        flag=OFF_PROFILE_FLAG,
        threshold="total >= %(min_total)s AND flagged * 100 >= %(min_percent)s * total",
        span=OFF_PROFILE_WINDOW,
        extra={
            "min_total": OFF_PROFILE_MIN_REGISTRATIONS,
            "min_percent": OFF_PROFILE_MIN_PERCENT,
            "off_profile_tiers": list(OFF_PROFILE_TIERS),
        },
    )
    candidates = []
    for (partner_id, bucket), row in _strongest_per_bucket(rows, OFF_PROFILE_WINDOW).items():
        _, _, ends_at, _, total, flagged, ids = row
        percent = flagged * 100 // total
        candidates.append(
            SignalCandidate(
                kind=FraudSignal.Kind.OFF_PROFILE_BURST,
                partner_id=partner_id,
                idempotency_key=f"off_profile_burst:partner:{partner_id}:{bucket}",
                summary=(
                    f"{plural(total, 'registration')} in {OFF_PROFILE_WINDOW.days} days up to "
                    f"{utc_minute(ends_at)}, of which {flagged} ({percent}%) had fit "
                    f"tier C or D (thresholds: {OFF_PROFILE_MIN_REGISTRATIONS} registrations, "
                    f"{OFF_PROFILE_MIN_PERCENT}%)."
                ),
                details={
                    "window_days": OFF_PROFILE_WINDOW.days,
                    "window_end": iso(ends_at),
                    "registrations": total,
                    "off_profile": flagged,
                    "off_profile_referral_ids": sorted(ids or [])[:MAX_LISTED],
                },
            )
        )
    return candidates


def footprintless_burst_signals(scan: RuleInput) -> list[SignalCandidate]:
    """Return signals for windows with many registrations of unknown or bare companies."""
    unknown = _windows(
        scan,
        flag=UNKNOWN_FLAG,
        threshold="flagged >= %(minimum)s",
        span=FOOTPRINTLESS_WINDOW,
        extra={"minimum": FOOTPRINTLESS_MIN_UNKNOWN},
    )
    bare = _windows(
        scan,
        flag=BARE_FLAG,
        threshold="flagged >= %(minimum)s",
        span=FOOTPRINTLESS_WINDOW,
        extra={"minimum": FOOTPRINTLESS_MIN_BARE},
    )
    candidates = []
    for evidence, rows, description in (
        ("unknown", unknown, "companies unknown to the CRM"),
        ("bare", bare, "registrations without an account, company name or contact e-mail"),
    ):
        for (partner_id, bucket), row in _strongest_per_bucket(rows, FOOTPRINTLESS_WINDOW).items():
            _, _, ends_at, _, total, flagged, ids = row
            minimum = FOOTPRINTLESS_MIN_UNKNOWN if evidence == "unknown" else FOOTPRINTLESS_MIN_BARE
            candidates.append(
                SignalCandidate(
                    kind=FraudSignal.Kind.FOOTPRINTLESS_BURST,
                    partner_id=partner_id,
                    idempotency_key=f"footprintless_burst:{evidence}:partner:{partner_id}:{bucket}",
                    summary=(
                        f"{flagged} {description} among {plural(total, 'registration')} in "
                        f"{FOOTPRINTLESS_WINDOW.days} days up to {utc_minute(ends_at)} "
                        f"(threshold: {minimum})."
                    ),
                    details={
                        "evidence": evidence,
                        "window_days": FOOTPRINTLESS_WINDOW.days,
                        "window_end": iso(ends_at),
                        "registrations": total,
                        "footprintless": flagged,
                        "footprintless_referral_ids": sorted(ids or [])[:MAX_LISTED],
                    },
                )
            )
    return candidates
