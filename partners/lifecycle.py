"""Partner status lifecycle: which status may follow which, and the audited change.

A partner moves prospect → applied → active ⇄ paused, and any status but
terminated may end in terminated. Terminated is final. Only an active partner's
tracking links redirect and its clicks convert, and the partner users of a
terminated partner are locked out of the portal (`tenancy.permissions`).
"""

from __future__ import annotations

import logging

from django.db import transaction

from attribution.links import partner_links_cache_forget
from partners.acceptance import acceptance_email_enqueue
from partners.models import Partner
from tenancy.errors import Conflict, DomainError
from tenancy.services import audit_record

logger = logging.getLogger(__name__)

Status = Partner.Status

# Status → the statuses a partner may move to from it.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.PROSPECT: (Status.APPLIED, Status.ACTIVE, Status.TERMINATED),
    Status.APPLIED: (Status.ACTIVE, Status.TERMINATED),
    Status.ACTIVE: (Status.PAUSED, Status.TERMINATED),
    Status.PAUSED: (Status.ACTIVE, Status.TERMINATED),
    Status.TERMINATED: (),
}


def allowed_next_statuses(status: str) -> tuple[str, ...]:
    """Return the statuses a partner in `status` may move to, in lifecycle order."""
    return TRANSITIONS.get(status, ())


def status_change_check(*, current: str, requested: str) -> None:
    """Raise DomainError for an unknown status and Conflict for a move the lifecycle forbids.

    Requesting the current status passes, because repeating a change is a no-op.
    """
    if requested not in Status.values:
        raise DomainError(
            f"Unknown partner status {requested!r}.",
            field="status",
            value=requested,
            fix=f"Use one of {', '.join(Status.values)}.",
        )
    if requested == current or requested in allowed_next_statuses(current):
        return
    allowed = allowed_next_statuses(current)
    fix = (
        f"From {current} a partner may move to {', '.join(allowed)}."
        if allowed
        else f"A {current} partner is final: create a new partner instead."
    )
    raise Conflict(
        f"A partner cannot move from {current} to {requested}.",
        field="status",
        value=requested,
        fix=fix,
    )


def partner_status_change(*, partner: Partner, status: str, actor, reason: str = "") -> Partner:
    """Move the partner to `status` with an audit event that records the reason.

    The partner row is locked for the check and the write, so two concurrent
    changes are applied one after the other. Requesting the current status
    changes nothing and writes no audit event. A move from applied to active
    e-mails the applicant after the commit (`partners.acceptance`).
    """
    reason = reason.strip()
    with transaction.atomic():
        locked = Partner.objects.select_for_update().get(pk=partner.pk)
        status_change_check(current=locked.status, requested=status)
        if locked.status == status:
            return locked
        before = locked.status
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        audit_record(
            tenant_id=locked.tenant_id,
            actor=actor,
            event="partner.status_changed",
            obj=locked,
            before={"status": before},
            after={"status": status, "reason": reason},
        )
        # The redirect caches links, and only an active partner's links may redirect.
        transaction.on_commit(lambda: partner_links_cache_forget(locked.pk))
        accepted = before == Status.APPLIED and status == Status.ACTIVE
        if accepted:
            acceptance_email_enqueue(partner=locked)
    logger.info(
        "partner.status_changed tenant_id=%s partner_id=%s from=%s to=%s acceptance_email=%s",
        locked.tenant_id,
        locked.pk,
        before,
        status,
        accepted,
    )
    return locked
