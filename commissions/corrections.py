"""Manual ledger entries: corrections (adjustments) and bonuses that a manager adds.

The ledger is append-only, so a wrong amount is corrected with a new adjustment
entry, and a reward outside the plan is a bonus entry. Both start pending and are
approved or voided by hand (`commissions.approval.entry_status_set`).

The client names each entry with its own idempotency key. Sending the same key
with the same values again returns the stored entry, and different values are
rejected, so a retried request never adds an entry twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from commissions.models import LedgerEntry
from commissions.money import minor_unit
from crm.models import Deal
from crm.parsing import parse_currency
from partners.models import Partner
from tenancy.errors import Conflict, DomainError, NotFound
from tenancy.services import actor_user, audit_record

logger = logging.getLogger(__name__)

KEY_PREFIX = "manual:"
MAX_KEY_LENGTH = 100
MANUAL_KINDS = (LedgerEntry.Kind.ADJUSTMENT, LedgerEntry.Kind.BONUS)
# Compared when a key is sent again; a difference in any of them is a conflict.
COMPARED_FIELDS = ("kind", "partner_id", "deal_id", "amount", "currency", "memo")


@dataclass(frozen=True)
class CorrectionResult:
    entry: LedgerEntry
    created: bool


def _checked(
    tenant, *, kind, partner_id, amount, currency, memo, idempotency_key, deal_external_id
):
    if kind not in MANUAL_KINDS:
        raise DomainError(
            f"Kind {kind!r} cannot be added by hand.",
            field="kind",
            value=kind,
            fix="Send adjustment to correct an amount or bonus to reward a partner; accruals "
            "and reversals come from deals and refunds.",
        )
    key = (idempotency_key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise DomainError(
            "The idempotency key is missing or too long.",
            field="idempotency_key",
            value=idempotency_key,
            fix=f"Send a key of 1 to {MAX_KEY_LENGTH} characters that is unique to this "
            "entry, such as a ticket number; resending it returns the same entry.",
        )
    memo = (memo or "").strip()
    if not memo or len(memo) > 255:
        raise DomainError(
            "A manual entry needs a memo of 1 to 255 characters.",
            field="memo",
            value=memo,
            fix="Say why the entry is added, such as the ticket or the deal it corrects.",
        )
    try:
        currency = parse_currency(currency or "") or tenant.base_currency
    except ValueError:
        raise DomainError(
            f"{currency!r} is not an ISO 4217 currency code.",
            field="currency",
            value=currency,
            fix=f"Send a code such as {tenant.base_currency}, or leave it out for the base "
            "currency.",
        ) from None
    if amount == 0 or amount != amount.quantize(minor_unit(currency)):
        raise DomainError(
            f"{amount} is zero or not a whole number of {currency} minor units.",
            field="amount",
            value=amount,
            fix=f"Send a non-zero amount with at most {-minor_unit(currency).as_tuple().exponent} "
            "decimals; a negative adjustment takes money back.",
        )
    if kind == LedgerEntry.Kind.BONUS and amount < 0:
        raise DomainError(
            "A bonus is a payment to the partner, so it cannot be negative.",
            field="amount",
            value=amount,
            fix="Send a positive amount, or add an adjustment to take money back.",
        )
    partner = Partner.objects.filter(pk=partner_id).first()
    if partner is None:
        raise NotFound(
            "No partner of this tenant has this id.",
            field="partner_id",
            value=partner_id,
            fix="Use an id from GET /api/v1/partners/.",
        )
    deal = None
    if deal_external_id:
        deal = Deal.objects.filter(external_id=deal_external_id, partner_id=partner.pk).first()
        if deal is None:
            raise NotFound(
                "No deal with this external id is credited to the partner.",
                field="deal_external_id",
                value=deal_external_id,
                fix="Name one of the partner's deals, or leave it out for an entry without a deal.",
            )
    return {
        "kind": kind,
        "partner_id": partner.pk,
        "deal_id": deal.pk if deal else None,
        "amount": amount,
        "currency": currency,
        "memo": memo,
    }, f"{KEY_PREFIX}{key}"


def ledger_correction_add(
    *,
    tenant,
    kind: str,
    partner_id: int,
    amount: Decimal,
    memo: str,
    idempotency_key: str,
    currency: str = "",
    deal_external_id: str = "",
    actor=None,
) -> CorrectionResult:
    """Add a pending adjustment or bonus once per idempotency key.

    Raises DomainError naming the field for bad input, NotFound for another
    tenant's partner or deal, and Conflict when the key was used with other values.
    """
    values, key = _checked(
        tenant,
        kind=kind,
        partner_id=partner_id,
        amount=amount,
        currency=currency,
        memo=memo,
        idempotency_key=idempotency_key,
        deal_external_id=deal_external_id,
    )
    existing = LedgerEntry.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return CorrectionResult(_same_or_conflict(existing, values), created=False)
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(
                tenant=tenant,
                status=LedgerEntry.Status.PENDING,
                idempotency_key=key,
                base_amount=Decimal(0),
                rate=Decimal(0),
                multiplier=Decimal(0),
                created_by=actor_user(actor),
                **values,
            )
            audit_record(
                tenant_id=tenant.pk,
                actor=actor,
                event=f"ledger.{kind}_added",
                obj=entry,
                after={**{name: str(value) for name, value in values.items()}, "key": key},
            )
    except IntegrityError:
        # A concurrent request with the same key won the insert.
        existing = LedgerEntry.objects.get(idempotency_key=key)
        logger.info("ledger.correction_race tenant_id=%s key=%s", tenant.pk, key)
        return CorrectionResult(_same_or_conflict(existing, values), created=False)
    logger.info(
        "ledger.correction_added tenant_id=%s entry_id=%s kind=%s partner_id=%s",
        tenant.pk,
        entry.pk,
        kind,
        values["partner_id"],
    )
    return CorrectionResult(entry, created=True)


def _same_or_conflict(entry: LedgerEntry, values: dict) -> LedgerEntry:
    for field in COMPARED_FIELDS:
        if getattr(entry, field) != values[field]:
            raise Conflict(
                f"Idempotency key {entry.idempotency_key.removeprefix(KEY_PREFIX)!r} was used for "
                f"entry {entry.pk} with another {field}.",
                field=field,
                value=values[field],
                fix="Send a new key for a new entry, or the same values to get the stored one.",
            )
    return entry
