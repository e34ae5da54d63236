"""A manager's review of a fraud signal: dismiss it, or confirm it.

Dismissing releases the entries the signal held back to pending, except those
another open signal still covers, and turns the click_flood signal's clicks of
visitors who converted meanwhile into link touches. Confirming voids the entries it held and
rejects the signal's registration, if it has one. A signal is reviewed once:
repeating the same outcome changes nothing, and the other outcome raises
Conflict. Both take the tenant's fraud lock before the signal's row lock, in
the order scans take them, and refresh the partner's roll-up after voiding.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from attribution.fraud.holds import EntryMove, fraud_lock, holds_release, holds_void
from attribution.models import FraudSignal, Referral
from reporting.services import partner_rollups_refresh
from tenancy.errors import Conflict, DomainError
from tenancy.services import actor_user, audit_record

logger = logging.getLogger(__name__)

NOTE_MAX_LENGTH = 500


def _note_clean(note: str | None, *, required: bool) -> str:
    note = (note or "").strip()
    if required and not note:
        raise DomainError(
            "A note is required to confirm a fraud signal.",
            field="note",
            value=note,
            fix="Say what the review found, such as who was contacted and what they said.",
        )
    if len(note) > NOTE_MAX_LENGTH:
        raise DomainError(
            f"The note has {len(note)} characters, more than {NOTE_MAX_LENGTH}.",
            field="note",
            value=note,
            fix=f"Shorten the note to {NOTE_MAX_LENGTH} characters.",
        )
    return note


def _lock(signal: FraudSignal) -> FraudSignal:
    fraud_lock(signal.tenant_id)
    return FraudSignal.objects.select_for_update().get(pk=signal.pk)


def _reviewed_conflict(signal: FraudSignal, requested: str) -> Conflict:
    when = f" on {signal.reviewed_at:%Y-%m-%d %H:%M} UTC" if signal.reviewed_at else ""
    return Conflict(
        f"Fraud signal {signal.pk} was already {signal.status}{when}, so it cannot be {requested}.",
        field="status",
        value=signal.status,
        fix="A signal is reviewed once. Reload it to see the outcome and its note.",
    )


def _review(signal: FraudSignal, *, status: str, actor, note: str, outcome: EntryMove) -> None:
    signal.status = status
    signal.reviewed_by = actor_user(actor)
    signal.reviewed_at = timezone.now()
    signal.review_note = note
    signal.details = {**signal.details, "review_outcome": outcome.as_json()}
    signal.save(
        update_fields=[
            "status",
            "reviewed_by",
            "reviewed_at",
            "review_note",
            "details",
            "updated_at",
        ]
    )


@transaction.atomic
def fraud_signal_dismiss(*, signal: FraudSignal, actor, note: str = "") -> FraudSignal:
    """Dismiss an open signal and release its held entries; return the signal.

    Raises DomainError for a note over NOTE_MAX_LENGTH characters, and Conflict
    when the signal was confirmed. Dismissing a dismissed signal returns it unchanged.
    """
    note = _note_clean(note, required=False)
    locked = _lock(signal)
    if locked.status == FraudSignal.Status.DISMISSED:
        return locked
    if locked.status == FraudSignal.Status.CONFIRMED:
        raise _reviewed_conflict(locked, "dismissed")

    # Imported here because attribution.touches imports the attribution rules and pipeline.
    from attribution.touches import touches_for_released_clicks

    released = holds_release(signal=locked)
    _review(locked, status=FraudSignal.Status.DISMISSED, actor=actor, note=note, outcome=released)
    touches_for_released_clicks(signal=locked)

    audit_record(
        tenant_id=locked.tenant_id,
        actor=actor,
        event="fraud_signal.dismissed",
        obj=locked,
        before={"status": FraudSignal.Status.OPEN},
        after={"status": locked.status, "note": note, "released": released.as_json()},
    )
    logger.info(
        "fraud_signal.dismissed tenant_id=%s signal_id=%s partner_id=%s released=%s",
        locked.tenant_id,
        locked.pk,
        locked.partner_id,
        released.count,
    )
    return locked


@transaction.atomic
def fraud_signal_confirm(*, signal: FraudSignal, actor, note: str) -> FraudSignal:
    """Confirm an open signal: void the entries it holds and reject its registration.

    Raises DomainError without a note or with one over NOTE_MAX_LENGTH characters,
    and Conflict when the signal was dismissed. Confirming a confirmed signal
    returns it unchanged. Approved and paid entries are never voided.
    """
    note = _note_clean(note, required=True)
    locked = _lock(signal)
    if locked.status == FraudSignal.Status.CONFIRMED:
        return locked
    if locked.status == FraudSignal.Status.DISMISSED:
        raise _reviewed_conflict(locked, "confirmed")

    # NOTE: a confirmed signal holds nothing more, so the partner's later accruals are
    # written pending; pausing or terminating the partner is what stops its payouts.
    voided = holds_void(signal=locked)
    _review(locked, status=FraudSignal.Status.CONFIRMED, actor=actor, note=note, outcome=voided)
    audit_record(
        tenant_id=locked.tenant_id,
        actor=actor,
        event="fraud_signal.confirmed",
        obj=locked,
        before={"status": FraudSignal.Status.OPEN},
        after={"status": locked.status, "note": note, "voided": voided.as_json()},
    )
    if locked.referral_id is not None:
        _referral_reject(locked, actor=actor, note=note)
    if voided.count:
        partner_rollups_refresh(partner_ids=[locked.partner_id])
    logger.info(
        "fraud_signal.confirmed tenant_id=%s signal_id=%s partner_id=%s voided=%s",
        locked.tenant_id,
        locked.pk,
        locked.partner_id,
        voided.count,
    )
    return locked


def _referral_reject(signal: FraudSignal, *, actor, note: str) -> None:
    """Reject the signal's registration, so its company's unbooked deals lose the credit."""
    from attribution.referrals import referral_review

    referral = Referral.objects.filter(pk=signal.referral_id).first()
    if referral is None or referral.status == Referral.Status.REJECTED:
        return
    prefix = f"Fraud signal {signal.pk} confirmed: "
    referral_review(
        referral=referral,
        decision="reject",
        note=(prefix + note)[:NOTE_MAX_LENGTH],
        actor=actor,
    )
    logger.info(
        "referral.rejected tenant_id=%s referral_id=%s fraud_signal_id=%s",
        signal.tenant_id,
        referral.pk,
        signal.pk,
    )
