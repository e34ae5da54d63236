"""Flooded clicks: the clicks a click_flood signal is about, and what they reached.

Tracking links are public, so anyone can flood a partner's links. A flood only
costs the tenant money when flooded clicks become link touches that win deals
(cookie stuffing). So a click_flood signal covers only the partner's entries on
the accounts whose domain has a link touch of that partner made from a flooded
click. A flooded click does not become a touch while a signal about it is open
or confirmed.

A signal's flooded clicks are the partner's clicks
- from its source (`details.source_kind` is ip_hash or visitor_id, and
  `details.source` the value), at any time, not only inside the flood's window,
  because the same source clicking before or after the flood is just as suspect;
- for an hourly spike (`details.evidence` is "spike"), in the hour from
  `details.hour_start`, because a spike has no single source.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import connection

from attribution.models import FraudSignal, Touch
from tenancy.scope import current_tenant_id

# True when click `c` is one of the flooded clicks of signal `f` (same partner).
FLOODED_CLICK_SQL = """
    ((f.details->>'source_kind' = 'ip_hash' AND c.ip_hash = f.details->>'source')
     OR (f.details->>'source_kind' = 'visitor_id' AND c.visitor_id = f.details->>'source')
     OR (f.details->>'evidence' = 'spike'
         AND c.clicked_at >= (f.details->>'hour_start')::timestamptz
         AND c.clicked_at < (f.details->>'hour_start')::timestamptz + interval '1 hour'))
"""

# True when click `c` may not become a touch: an open or confirmed click_flood
# signal of the click's partner is about it. A dismissed signal blocks nothing.
CLICK_NOT_BLOCKED_SQL = f"""
    NOT EXISTS (
        SELECT 1
          FROM attribution_fraudsignal AS f
         WHERE f.tenant_id = c.tenant_id AND f.partner_id = c.partner_id
           AND f.kind = '{FraudSignal.Kind.CLICK_FLOOD.value}'
           AND f.status IN ('{FraudSignal.Status.OPEN.value}',
                            '{FraudSignal.Status.CONFIRMED.value}')
           AND {FLOODED_CLICK_SQL})
"""

# The accounts reached through each signal's flooded clicks. Starts from the
# partner's link touches, which are far fewer than its clicks.
REACHED_ACCOUNTS_SQL = f"""
    SELECT DISTINCT f.id, a.id
      FROM attribution_fraudsignal AS f
      JOIN attribution_touch AS t
        ON t.tenant_id = f.tenant_id AND t.partner_id = f.partner_id
       AND t.kind = '{Touch.Kind.LINK.value}'
      JOIN attribution_click AS c ON c.id = t.click_id AND c.tenant_id = t.tenant_id
      JOIN crm_account AS a ON a.tenant_id = t.tenant_id AND a.domain = t.domain
     WHERE f.tenant_id = %(tenant_id)s AND f.id = ANY(%(signal_ids)s)
       AND f.kind = '{FraudSignal.Kind.CLICK_FLOOD.value}' AND {FLOODED_CLICK_SQL}
"""


def reached_account_ids(signal_ids) -> dict[int, set[int]]:
    """Return, per click_flood signal of the active tenant, the accounts its clicks reached.

    A signal whose flooded clicks made no link touch on a known account is missing
    from the result.
    """
    signal_ids = sorted(signal_ids)
    if not signal_ids:
        return {}
    reached: dict[int, set[int]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute(
            REACHED_ACCOUNTS_SQL, {"tenant_id": current_tenant_id(), "signal_ids": signal_ids}
        )
        for signal_id, account_id in cursor.fetchall():
            reached[signal_id].add(account_id)
    return dict(reached)
