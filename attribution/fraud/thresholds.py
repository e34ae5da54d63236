"""Thresholds of the fraud rules, in one place so docs/fraud.md and the rules agree.

Every rule flags a pattern strictly at or above its threshold, as each constant
says. The values are starting points for a review queue, not measured error
rates: a tenant whose partners legitimately work at a larger scale raises them
here.
"""

from __future__ import annotations

import datetime

# Click flood from one source: more than CLICK_FLOOD_MAX_CLICKS clicks from one
# ip_hash, or from one visitor_id, on one partner's links inside any span of
# CLICK_FLOOD_WINDOW (both ends included). Signals are bucketed by fixed
# CLICK_FLOOD_WINDOW-long periods counted from the Unix epoch.
CLICK_FLOOD_MAX_CLICKS = 30
CLICK_FLOOD_WINDOW = datetime.timedelta(minutes=10)

# Click spike: a partner's clicks in one clock hour (UTC) are more than
# CLICK_SPIKE_FACTOR times the median of its hourly counts over the
# CLICK_SPIKE_BASELINE before that hour (hours without clicks count as 0), and
# more than CLICK_SPIKE_MIN_CLICKS, so that a quiet partner's handful of clicks
# is no spike.
CLICK_SPIKE_FACTOR = 10
CLICK_SPIKE_MIN_CLICKS = 100
CLICK_SPIKE_BASELINE = datetime.timedelta(days=7)

# Off-profile burst: at least OFF_PROFILE_MIN_REGISTRATIONS registrations by one
# partner inside any span of OFF_PROFILE_WINDOW, of which at least
# OFF_PROFILE_MIN_PERCENT percent had fit tier C or D when registered.
OFF_PROFILE_MIN_REGISTRATIONS = 20
OFF_PROFILE_MIN_PERCENT = 60
OFF_PROFILE_WINDOW = datetime.timedelta(days=7)

# Footprintless burst: inside any span of FOOTPRINTLESS_WINDOW, one partner
# registers at least FOOTPRINTLESS_MIN_UNKNOWN companies unknown to the CRM (no
# account with the domain, or an account without any firmographics), or at least
# FOOTPRINTLESS_MIN_BARE registrations without an account, company name or
# contact e-mail.
FOOTPRINTLESS_MIN_UNKNOWN = 25
FOOTPRINTLESS_MIN_BARE = 10
FOOTPRINTLESS_WINDOW = datetime.timedelta(days=7)

# Linked partners registering one domain: their clicks share at least
# LINKED_MIN_SHARED_IPS distinct ip_hash values during LINKED_CLICK_LOOKBACK before
# the later registration. One shared address is common behind offices and mobile
# networks, so it is not evidence on its own.
LINKED_MIN_SHARED_IPS = 3
LINKED_CLICK_LOOKBACK = datetime.timedelta(days=30)

# The periodic scan looks at partners with clicks or registrations in the last
# RECENT_ACTIVITY and at evidence from that time on. It runs every 5 minutes, so
# the overlap covers missed runs; rescanning adds nothing.
RECENT_ACTIVITY = datetime.timedelta(hours=1)
