"""What a rule returns, and how the scan stores it: insert new signals, skip known ones.

A signal's idempotency key is built from its kind and its evidence (a referral
id, or a partner, a source and a time bucket), so scanning the same evidence
twice adds nothing. A dismissed or confirmed signal keeps its key, so the same
evidence never raises it again.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from attribution.models import FraudSignal

logger = logging.getLogger(__name__)

# The kinds whose signal is about one registration; the others cover the partner.
REFERRAL_KINDS = frozenset(
    {FraudSignal.Kind.SELF_REFERRAL, FraudSignal.Kind.DUPLICATE_REGISTRATION}
)
SUMMARY_MAX_LENGTH = 500
KEY_LOOKUP_CHUNK = 1000
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class SignalCandidate:
    """A signal a rule found, before it is stored."""

    kind: str
    partner_id: int
    idempotency_key: str
    summary: str
    details: dict = field(default_factory=dict)
    # Set for the kinds in REFERRAL_KINDS, empty for partner-wide patterns.
    referral_id: int | None = None


def bucket_start(moment: datetime.datetime, size: datetime.timedelta) -> datetime.datetime:
    """Return the start of the fixed `size`-long period from the Unix epoch that holds `moment`."""
    periods = (moment - EPOCH) // size
    return EPOCH + periods * size


def bucket_label(moment: datetime.datetime, size: datetime.timedelta) -> str:
    """Return the start of `moment`'s bucket as UTC ISO text, for idempotency keys."""
    start = bucket_start(moment, size)
    if size % datetime.timedelta(days=1) == datetime.timedelta(0):
        return start.date().isoformat()
    return start.strftime("%Y-%m-%dT%H:%M")


def shortened(text: str, limit: int = SUMMARY_MAX_LENGTH) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def signals_upsert(*, tenant_id: int, candidates: list[SignalCandidate]) -> list[FraudSignal]:
    """Insert the candidates whose key is new to the tenant; return the new signals.

    The caller holds the tenant's fraud lock (`holds.fraud_lock`), so no other scan
    inserts the same keys between the lookup and the insert. The unique key still
    turns a concurrent insert into a no-op.
    """
    by_key = {candidate.idempotency_key: candidate for candidate in candidates}
    keys = list(by_key)
    known: set[str] = set()
    for start in range(0, len(keys), KEY_LOOKUP_CHUNK):
        known.update(
            FraudSignal.objects.filter(
                idempotency_key__in=keys[start : start + KEY_LOOKUP_CHUNK]
            ).values_list("idempotency_key", flat=True)
        )
    new = [by_key[key] for key in keys if key not in known]
    if not new:
        return []

    FraudSignal.objects.bulk_create(
        [
            FraudSignal(
                tenant_id=tenant_id,
                partner_id=candidate.partner_id,
                kind=candidate.kind,
                referral_id=candidate.referral_id,
                summary=shortened(candidate.summary),
                details=candidate.details,
                idempotency_key=candidate.idempotency_key,
            )
            for candidate in new
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    created = list(
        FraudSignal.objects.filter(
            idempotency_key__in=[candidate.idempotency_key for candidate in new]
        ).order_by("pk")
    )
    for signal in created:
        logger.info(
            "fraud_signal.raised tenant_id=%s signal_id=%s partner_id=%s kind=%s referral_id=%s",
            tenant_id,
            signal.pk,
            signal.partner_id,
            signal.kind,
            signal.referral_id,
        )
    return created
