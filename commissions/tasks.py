"""Celery tasks of the commission ledger."""

from __future__ import annotations

from celery import shared_task

from commissions.approval import entries_release_due_all


@shared_task(name="commissions.tasks.release_due_entries_task")
def release_due_entries_task() -> int:
    """Approve every tenant's pending accruals whose holding period has passed."""
    return entries_release_due_all()
