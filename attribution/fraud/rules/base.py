"""The input of every fraud rule, and text helpers for the signals' summaries."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from attribution.fraud.signals import SignalCandidate


@dataclass(frozen=True)
class RuleInput:
    """The scope of a rule run: one tenant's partners, and evidence from `since` on.

    With `since` empty a rule looks at all evidence. Otherwise it reports only
    patterns that include a row dated, or for registrations also written, at or
    after `since`. Windows still count the earlier rows they reach back to.
    """

    tenant_id: int
    partner_ids: tuple[int, ...]
    since: datetime.datetime | None = None


Rule = Callable[[RuleInput], list[SignalCandidate]]


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """Return "1 click" or "3 clicks"."""
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"


def iso(moment: datetime.datetime) -> str:
    """Return a UTC timestamp as ISO text for a signal's details."""
    return moment.astimezone(datetime.UTC).isoformat()


def utc_minute(moment: datetime.datetime) -> str:
    """Return a timestamp for a signal's summary, such as "2026-03-05 14:20 UTC"."""
    return f"{moment.astimezone(datetime.UTC):%Y-%m-%d %H:%M} UTC"
