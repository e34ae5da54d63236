"""The fraud rules: each takes a `RuleInput` and returns the signals it finds.

Rules only read. Each works on a chunk of partners with a few set-based queries
and returns `SignalCandidate`s, which `scan.fraud_scan` stores.
"""

from __future__ import annotations

from attribution.fraud.rules.base import Rule, RuleInput
from attribution.fraud.rules.bursts import footprintless_burst_signals, off_profile_burst_signals
from attribution.fraud.rules.click_flood import click_flood_signals, click_spike_signals
from attribution.fraud.rules.duplicates import (
    duplicate_registration_signals,
    linked_partner_signals,
)
from attribution.fraud.rules.self_referral import self_referral_signals

# Every rule, in the order the scan runs them.
ALL_RULES: tuple[Rule, ...] = (
    self_referral_signals,
    duplicate_registration_signals,
    linked_partner_signals,
    off_profile_burst_signals,
    footprintless_burst_signals,
    click_flood_signals,
    click_spike_signals,
)

__all__ = ["ALL_RULES", "Rule", "RuleInput"]
