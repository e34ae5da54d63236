"""The fraud scan: run every rule over a tenant's partners, store new signals, apply holds."""

from __future__ import annotations

import datetime
import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction

from attribution.fraud.holds import fraud_lock, holds_apply
from attribution.fraud.rules import ALL_RULES, RuleInput
from attribution.fraud.signals import signals_upsert
from partners.models import Partner
from tenancy.models import Tenant
from tenancy.scope import tenant_scope
from tenancy.services import audit_record

logger = logging.getLogger(__name__)

# Partners whose rules run together; each chunk is written in its own transaction.
PARTNER_CHUNK_SIZE = 500
# Actor label of the scan in the audit events of the signals it raises.
SCAN_ACTOR_LABEL = "fraud-scan"


@dataclass
class ScanResult:
    """Counts of the signals one scan raised and the entries it held."""

    partners: int = 0
    # New signals by kind; signals found before are not counted.
    new_signals: Counter = field(default_factory=Counter)
    entries_held: int = 0

    @property
    def new_total(self) -> int:
        return sum(self.new_signals.values())


def fraud_scan(
    *, tenant: Tenant, partner_ids=None, since: datetime.datetime | None = None
) -> ScanResult:
    """Run every fraud rule for the tenant's partners (all, or `partner_ids`) and hold entries.

    The rules only read, outside any transaction. Each chunk of partners then
    stores its new signals and holds the pending entries that its open signals
    cover, in one transaction under the tenant's fraud lock. Rerunning adds
    nothing: keys of known signals are skipped, dismissed ones included. Ids of
    another tenant's partners are ignored.
    """
    started = time.monotonic()
    result = ScanResult()
    with tenant_scope(tenant):
        partners = Partner.objects.order_by("pk")
        if partner_ids is not None:
            partners = partners.filter(pk__in=list(partner_ids))
        ids = list(partners.values_list("pk", flat=True))
        logger.info(
            "fraud_scan.started tenant_id=%s partners=%s since=%s",
            tenant.pk,
            len(ids),
            since.isoformat() if since else "",
        )
        for start in range(0, len(ids), PARTNER_CHUNK_SIZE):
            chunk = tuple(ids[start : start + PARTNER_CHUNK_SIZE])
            _scan_chunk(tenant, chunk, since, result)
            result.partners += len(chunk)
    logger.info(
        "fraud_scan.finished tenant_id=%s partners=%s new_signals=%s by_kind=%s "
        "entries_held=%s seconds=%.2f",
        tenant.pk,
        result.partners,
        result.new_total,
        dict(sorted(result.new_signals.items())),
        result.entries_held,
        time.monotonic() - started,
    )
    return result


def _scan_chunk(tenant: Tenant, partner_ids: tuple[int, ...], since, result: ScanResult) -> None:
    scan = RuleInput(tenant_id=tenant.pk, partner_ids=partner_ids, since=since)
    candidates = [candidate for rule in ALL_RULES for candidate in rule(scan)]

    with transaction.atomic():
        fraud_lock(tenant.pk)
        new = signals_upsert(tenant_id=tenant.pk, candidates=candidates)
        result.entries_held += holds_apply(tenant_id=tenant.pk, partner_ids=partner_ids)
        for signal in new:
            result.new_signals[signal.kind] += 1
            audit_record(
                tenant_id=tenant.pk,
                label=SCAN_ACTOR_LABEL,
                event="fraud_signal.raised",
                obj=signal,
                after={
                    "kind": signal.kind,
                    "partner_id": signal.partner_id,
                    "referral_id": signal.referral_id,
                    "summary": signal.summary,
                },
            )
