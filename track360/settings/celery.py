"""Celery settings: Redis broker, JSON messages, late acknowledgement."""

from datetime import timedelta

from celery.schedules import crontab

from track360.settings.env import env_int, env_str

REDIS_URL = env_str("REDIS_URL")

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# A task is acknowledged after it ran, so a worker killed half way leaves it queued.
# Every task is idempotent, so running it again is safe.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Enqueueing from a web request gives up quickly when Redis is down; the sweep
# picks up the deal later.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# Seconds a committed won deal may wait before the sweep processes it itself.
TRACK360_SWEEP_GRACE_SECONDS = env_int("TRACK360_SWEEP_GRACE_SECONDS", 15)
CELERY_BEAT_SCHEDULE = {
    "sweep-pending-deals": {
        "task": "crm.tasks.sweep_pending_deals_task",
        "schedule": timedelta(seconds=env_int("TRACK360_SWEEP_INTERVAL_SECONDS", 30)),
    },
    "refresh-partner-scores": {
        "task": "partners.tasks.refresh_all_partner_scores_task",
        "schedule": timedelta(hours=1),
    },
    # Daily at this hour, UTC. The service compares each due date with the tenant's
    # own date, and a due date is mailed once, so a missed or repeated run is harmless.
    "send-icp-review-reminders": {
        "task": "icp.review_tasks.send_icp_review_reminders_task",
        "schedule": crontab(minute=0, hour=env_int("TRACK360_ICP_REMINDER_HOUR_UTC", 7)),
    },
    # Buying-trigger criteria count days back from today, so fits age overnight.
    # NOTE: this runs at 00:15 UTC for every tenant, so a tenant far from UTC gets its
    # rescore up to a day after its own midnight.
    "rescore-trigger-tenants": {
        "task": "icp.tasks.rescore_trigger_tenants_task",
        "schedule": crontab(hour=0, minute=15),
    },
    # Scans partners with recent clicks or registrations. Rescanning evidence adds nothing.
    "scan-fraud-recent-activity": {
        "task": "attribution.fraud_tasks.fraud_scan_recent_task",
        "schedule": timedelta(minutes=5),
    },
    # Pending accruals past their plan's holding period become approved. Only pending
    # rows are updated, so a missed or repeated run is harmless.
    "release-due-ledger-entries": {
        "task": "commissions.tasks.release_due_entries_task",
        "schedule": crontab(hour=1, minute=0),
    },
    # Refund and churn events whose task was lost (broker down) are processed here.
    # A processed event is skipped, so a missed or repeated run is harmless.
    "sweep-revenue-events": {
        "task": "commissions.tasks.sweep_revenue_events_task",
        "schedule": timedelta(minutes=10),
    },
    # Billing webhook events whose task was lost are processed here; a processed
    # event is skipped, so a missed or repeated run is harmless.
    "sweep-billing-events": {
        "task": "billing.tasks.sweep_billing_events_task",
        "schedule": timedelta(minutes=5),
    },
    # A reused key older than 24 hours is replaced anyway, so this only keeps the table small.
    "expire-idempotency-records": {
        "task": "tenancy.tasks.expire_idempotency_records_task",
        "schedule": timedelta(hours=1),
    },
    # Tracking-link clicks wait in Redis until this writes them to the database.
    "drain-clicks": {
        "task": "attribution.tasks.drain_clicks_task",
        "schedule": timedelta(seconds=env_int("TRACK360_CLICK_DRAIN_INTERVAL_SECONDS", 5)),
    },
    # Webhook deliveries due for a first attempt or a retry. Claims skip locked rows,
    # so overlapping runs never send one delivery twice.
    "send-webhook-deliveries": {
        "task": "webhooks.tasks.send_webhook_deliveries_task",
        "schedule": timedelta(seconds=env_int("TRACK360_WEBHOOK_INTERVAL_SECONDS", 15)),
    },
}
# Task modules that autodiscovery, which imports only each app's `tasks` module, misses.
CELERY_IMPORTS = ("icp.review_tasks", "attribution.fraud_tasks")

# One queue per workload; this default deployment runs one worker that consumes
# both, and a larger one can give each queue workers of its own.
CELERY_TASK_ROUTES = {
    "crm.tasks.*": {"queue": "default"},
    "icp.tasks.*": {"queue": "default"},
    "partners.tasks.*": {"queue": "default"},
    "attribution.fraud_tasks.*": {"queue": "default"},
    "attribution.tasks.*": {"queue": "default"},
    "commissions.tasks.*": {"queue": "default"},
    "webhooks.tasks.*": {"queue": "default"},
    "billing.tasks.*": {"queue": "default"},
}
