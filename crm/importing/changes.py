"""Compare checked import rows with the stored ones: would each create, update or change nothing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from crm.importing.accounts import ACCOUNT_FIELDS
from crm.importing.csvfile import ParsedFile
from crm.importing.deals import DEAL_FIELDS
from crm.models import Account, Deal


@dataclass
class ChangeCounts:
    create: int = 0
    update: int = 0
    unchanged: int = 0

    def add(self, other: ChangeCounts) -> None:
        self.create += other.create
        self.update += other.update
        self.unchanged += other.unchanged


def _same(incoming, stored) -> bool:
    # Empty text is stored as "" where the row carries None.
    if incoming in (None, "") and stored in (None, ""):
        return True
    if isinstance(incoming, Decimal) and isinstance(stored, Decimal):
        return incoming == stored
    return incoming == stored


def _classify(model, parsed: ParsedFile, fields: list[str]) -> ChangeCounts:
    keys = [row["external_id"] for _, row in parsed.rows]
    stored = {
        values["external_id"]: values
        for values in model.objects.filter(external_id__in=keys).values("external_id", *fields)
    }
    counts = ChangeCounts()
    for _, row in parsed.rows:
        existing = stored.get(row["external_id"])
        if existing is None:
            counts.create += 1
        elif all(_same(row.get(name), existing[name]) for name in fields):
            counts.unchanged += 1
        else:
            counts.update += 1
    return counts


def classify_accounts(tenant, parsed: ParsedFile) -> ChangeCounts:
    fields = [name for name in ACCOUNT_FIELDS if name in parsed.columns]
    return _classify(Account, parsed, fields)


def classify_deals(tenant, parsed: ParsedFile) -> ChangeCounts:
    """Count deal rows by outcome; run after check_deals, which resolves account and partner."""
    fields = [name for name in DEAL_FIELDS if name in parsed.columns]
    fields = [*dict.fromkeys([*fields, "currency", "account_id", "partner_id", "partner_named"])]
    return _classify(Deal, parsed, fields)
