"""Celery tasks of tenancy: invitation e-mails, sent after the membership commits."""

from __future__ import annotations

from celery import shared_task

from tenancy.invitations import invitation_send


@shared_task(
    name="tenancy.tasks.send_invitation_task",
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=5,
    time_limit=120,
)
def send_invitation_task(membership_id: int) -> bool:
    """Send one partner or staff invitation e-mail; SMTP failures are retried with back-off."""
    return invitation_send(membership_id=membership_id)


@shared_task(name="tenancy.tasks.expire_idempotency_records_task", time_limit=600)
def expire_idempotency_records_task() -> int:
    """Delete Idempotency-Key records older than 24 hours, for every tenant."""
    from tenancy.idempotency import idempotency_records_expire

    return idempotency_records_expire()
