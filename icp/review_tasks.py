"""Celery task that sends the daily ICP review reminders; beat schedules it."""

from __future__ import annotations

from celery import shared_task

from icp.review import icp_review_reminders_send


@shared_task(name="icp.review_tasks.send_icp_review_reminders_task", time_limit=15 * 60)
def send_icp_review_reminders_task() -> dict:
    """Send the reminders of every tenant whose ICP review is due and return the counts.

    Safe to run again or to redeliver: each due date is mailed once.
    """
    return icp_review_reminders_send()
