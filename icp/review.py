"""The periodic review of the active ICP version: its status, completion and reminder e-mails.

Activation sets `review_due_on` to the tenant's date plus `Tenant.icp_review_days`,
and completing a review moves it the same number of days past the day of the
review. Changing `icp_review_days` changes neither existing due date: it applies
from the next activation or completed review.
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from icp.models import IcpVersion
from icp.selectors import icp_version_active
from tenancy.errors import Conflict, DomainError
from tenancy.models import AuditEvent, Membership, Tenant
from tenancy.scope import tenant_scope
from tenancy.services import actor_user, audit_record

logger = logging.getLogger(__name__)

# A review due within this many days counts as upcoming, and the dashboard shows it.
UPCOMING_DAYS = 14
MAX_NOTE_LENGTH = 2000
# Roles that receive reminder e-mails: the roles that may change the ICP.
REMINDER_ROLES = (Membership.Role.ADMIN, Membership.Role.PARTNER_MANAGER)
REVIEWED_EVENT = "icp_version.reviewed"
NOTE_ADDED_EVENT = "icp_version.review_note_added"


class ReviewState:
    NO_VERSION = "no_version"
    UNSCHEDULED = "unscheduled"
    OVERDUE = "overdue"
    DUE = "due"
    UPCOMING = "upcoming"
    OK = "ok"


# States that the banner on the dashboard and the ICP pages shows.
ATTENTION_STATES = (ReviewState.OVERDUE, ReviewState.DUE, ReviewState.UPCOMING)


@dataclass(frozen=True)
class ReviewStatus:
    """Review state of the active version on the tenant's date `today`.

    `days_left` is negative when the review is overdue and None without a due date.
    """

    version: IcpVersion | None
    due_on: datetime.date | None
    state: str
    days_left: int | None
    today: datetime.date

    @property
    def needs_attention(self) -> bool:
        return self.state in ATTENTION_STATES

    @property
    def days_overdue(self) -> int:
        return -self.days_left if self.days_left is not None and self.days_left < 0 else 0

    def as_dict(self) -> dict:
        version = self.version
        return {
            "state": self.state,
            "due_on": self.due_on,
            "days_left": self.days_left,
            "today": self.today,
            "version": None
            if version is None
            else {"id": version.pk, "number": version.number, "name": version.name},
            "reviewed_at": version.reviewed_at if version else None,
        }


def review_state(due_on: datetime.date | None, today: datetime.date) -> tuple[str, int | None]:
    """Return the state and days left of a review due on `due_on`, seen on `today`."""
    if due_on is None:
        return ReviewState.UNSCHEDULED, None
    days_left = (due_on - today).days
    if days_left < 0:
        return ReviewState.OVERDUE, days_left
    if days_left == 0:
        return ReviewState.DUE, days_left
    if days_left <= UPCOMING_DAYS:
        return ReviewState.UPCOMING, days_left
    return ReviewState.OK, days_left


def icp_review_status(*, tenant: Tenant) -> ReviewStatus:
    """Return the review status of the tenant's active version, on the tenant's date."""
    today = tenant.today()
    version = icp_version_active(tenant=tenant)
    if version is None:
        return ReviewStatus(None, None, ReviewState.NO_VERSION, None, today)
    state, days_left = review_state(version.review_due_on, today)
    return ReviewStatus(version, version.review_due_on, state, days_left, today)


def icp_review_last(*, version: IcpVersion) -> AuditEvent | None:
    """Return the audit event of the version's latest completed review, which contains its note."""
    return (
        AuditEvent.all_tenants.filter(
            tenant_id=version.tenant_id,
            event=REVIEWED_EVENT,
            object_type=IcpVersion._meta.label,
            object_id=str(version.pk),
        )
        .select_related("actor")
        .order_by("-created_at")
        .first()
    )


def icp_review_complete(*, version: IcpVersion, actor=None, note: str = "") -> IcpVersion:
    """Record a completed review of the active `version` and schedule the next one.

    Sets reviewed_at and reviewed_by and moves review_due_on to the tenant's date
    plus `icp_review_days`. A second submit on the same tenant date keeps the review
    and its dates. With the same note or none it changes nothing, so a double click
    records one review. With a new note it adds the note to the audit trail.
    Raises Conflict when `version` is not the active version, and DomainError for a
    note longer than MAX_NOTE_LENGTH.
    """
    note = _validate_note(note)
    tenant = Tenant.objects.get(pk=version.tenant_id)
    with transaction.atomic(), tenant_scope(tenant):
        locked = IcpVersion.objects.select_for_update().filter(pk=version.pk).first()
        if locked is None or locked.status != IcpVersion.Status.ACTIVE:
            status = locked.status if locked else "missing"
            raise Conflict(
                f"ICP version {version.pk} is {status}, and only the active version is reviewed.",
                field="version",
                value=version.pk,
                fix="Open the review page again and review the active version.",
            )
        today = tenant.today()
        if locked.reviewed_at is not None and _tenant_date(locked.reviewed_at, tenant) == today:
            if note and note not in _notes_since(locked, locked.reviewed_at):
                audit_record(
                    tenant_id=tenant.pk,
                    actor=actor,
                    event=NOTE_ADDED_EVENT,
                    obj=locked,
                    after={"note": note, "reviewed_at": locked.reviewed_at.isoformat()},
                )
                logger.info(
                    "icp.review.note_added tenant_id=%s icp_version_id=%s", tenant.pk, locked.pk
                )
            else:
                logger.info(
                    "icp.review.repeated tenant_id=%s icp_version_id=%s", tenant.pk, locked.pk
                )
            return locked

        before = _review_snapshot(locked)
        locked.reviewed_at = timezone.now()
        locked.reviewed_by = actor_user(actor)
        locked.review_due_on = today + datetime.timedelta(days=tenant.icp_review_days)
        locked.save(update_fields=["reviewed_at", "reviewed_by", "review_due_on", "updated_at"])
        audit_record(
            tenant_id=tenant.pk,
            actor=actor,
            event=REVIEWED_EVENT,
            obj=locked,
            before=before,
            after={**_review_snapshot(locked), "note": note},
        )
    logger.info(
        "icp.review.completed tenant_id=%s icp_version_id=%s next_due_on=%s",
        tenant.pk,
        locked.pk,
        locked.review_due_on,
    )
    return locked


def _notes_since(version: IcpVersion, since) -> set[str]:
    """Return the review notes recorded for `version` since `since`."""
    events = AuditEvent.objects.filter(
        event__in=(REVIEWED_EVENT, NOTE_ADDED_EVENT),
        object_type=IcpVersion._meta.label,
        object_id=str(version.pk),
        created_at__gte=since - datetime.timedelta(seconds=1),
    ).values_list("after", flat=True)
    return {(after or {}).get("note", "") for after in events}


def icp_review_reminders_send(*, today: datetime.date | None = None) -> dict:
    """E-mail a reminder for every active version whose review is due, once per due date.

    Each tenant whose active version has review_due_on on or before its date (or
    `today`, when given) gets one message addressed to all its admins and partner
    managers with an e-mail address. review_reminded_for then records the due
    date, so a second run sends nothing until a review sets a new due date. A
    tenant whose message fails is logged and retried on the next run, and the
    other tenants are still processed. Returns counts of the outcomes.
    """
    counts = {"sent": 0, "no_recipients": 0, "failed": 0, "skipped": 0}
    # The widest date any tenant can have right now is UTC's date plus one day.
    latest = today or (timezone.now() + datetime.timedelta(days=1)).date()
    candidates = (
        IcpVersion.all_tenants.filter(
            status=IcpVersion.Status.ACTIVE,
            review_due_on__isnull=False,
            review_due_on__lte=latest,
        )
        .exclude(review_reminded_for__isnull=False, review_due_on=F("review_reminded_for"))
        .values_list("pk", "tenant_id")
        .order_by("tenant_id")
    )
    candidates = list(candidates)
    logger.info("icp.review_reminders.started versions=%s", len(candidates))
    for version_id, tenant_id in candidates:
        try:
            outcome = _remind_one(version_id, tenant_id, today)
        except Exception:
            # One tenant's bad data or a refused message must not stop the others.
            logger.exception(
                "icp.review_reminder.failed tenant_id=%s icp_version_id=%s", tenant_id, version_id
            )
            outcome = "failed"
        counts[outcome] += 1
    logger.info("icp.review_reminders.finished %s", _format_counts(counts))
    return counts


def review_page_url() -> str:
    """Return the absolute URL of the review page, built from TRACK360_BASE_URL."""
    return f"{settings.TRACK360_BASE_URL.rstrip('/')}{reverse('icp:review')}"


def _remind_one(version_id: int, tenant_id: int, today: datetime.date | None) -> str:
    tenant = Tenant.objects.get(pk=tenant_id)
    day = today or tenant.today()
    with transaction.atomic():
        # skip_locked: a concurrent run that holds the row is sending this reminder.
        version = (
            IcpVersion.all_tenants.select_for_update(skip_locked=True)
            .filter(pk=version_id, tenant_id=tenant_id, status=IcpVersion.Status.ACTIVE)
            .first()
        )
        if (
            version is None
            or version.review_due_on is None
            or version.review_due_on > day
            or version.review_reminded_for == version.review_due_on
        ):
            return "skipped"
        recipients = _reminder_recipients(tenant)
        if not recipients:
            logger.warning(
                "icp.review_reminder.no_recipients tenant_id=%s icp_version_id=%s",
                tenant.pk,
                version.pk,
            )
            return "no_recipients"

        _reminder_message(tenant, version, day, recipients).send(fail_silently=False)
        # Recorded in the same transaction: when the commit fails, the next run sends
        # the message again, so a reminder goes out at least once.
        version.review_reminded_for = version.review_due_on
        version.save(update_fields=["review_reminded_for", "updated_at"])
    logger.info(
        "icp.review_reminder.sent tenant_id=%s icp_version_id=%s due_on=%s recipients=%s",
        tenant.pk,
        version.pk,
        version.review_due_on,
        len(recipients),
    )
    return "sent"


def _reminder_recipients(tenant: Tenant) -> list[str]:
    emails = (
        Membership.objects.filter(tenant=tenant, role__in=REMINDER_ROLES, user__is_active=True)
        .exclude(user__email="")
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )
    return list(dict.fromkeys(email.strip() for email in emails if email.strip()))


def _reminder_message(
    tenant: Tenant, version: IcpVersion, today: datetime.date, recipients: list[str]
) -> EmailMessage:
    state, days_left = review_state(version.review_due_on, today)
    due = version.review_due_on.isoformat()
    if state == ReviewState.OVERDUE:
        when = f"was due on {due}, {-days_left} day{'s' if days_left != -1 else ''} ago"
    else:
        when = f"is due today, {due}"
    subject = f"ICP review {'overdue' if state == ReviewState.OVERDUE else 'due'}: {version}"
    body = "\n".join(
        [
            f"The review of {tenant.name}'s active ICP version, v{version.number} "
            f"\u201c{version.name}\u201d, {when}.",
            "",
            "The review page shows the drift report: which tiers win now, which segments "
            "win outside the profile and which stopped winning. Complete the review there, "
            "or draft a new version from the findings:",
            review_page_url(),
            "",
            f"If you are a member of several tenants, switch to {tenant.name} with the menu "
            "at the top right first.",
            "",
            f"You receive this because you are an admin or partner manager of {tenant.name}.",
        ]
    )
    return EmailMessage(subject=subject, body=body, to=recipients)


def _review_snapshot(version: IcpVersion) -> dict:
    return {
        "reviewed_at": version.reviewed_at.isoformat() if version.reviewed_at else None,
        "reviewed_by_id": version.reviewed_by_id,
        "review_due_on": version.review_due_on.isoformat() if version.review_due_on else None,
    }


def _tenant_date(moment: datetime.datetime, tenant: Tenant) -> datetime.date:
    return timezone.localtime(moment, zoneinfo.ZoneInfo(tenant.time_zone)).date()


def _validate_note(note) -> str:
    if note is None:
        return ""
    if not isinstance(note, str):
        raise DomainError(
            "The review note is not text.",
            field="note",
            value=note,
            fix="Send the note as a string, or leave it out.",
        )
    cleaned = note.strip()
    if len(cleaned) > MAX_NOTE_LENGTH:
        raise DomainError(
            f"The review note has {len(cleaned):,} characters, more than {MAX_NOTE_LENGTH:,}.",
            field="note",
            value=f"{cleaned[:40]}…",
            fix=f"Shorten the note to at most {MAX_NOTE_LENGTH:,} characters.",
        )
    return cleaned


def _format_counts(counts: dict) -> str:
    return " ".join(f"{key}={value}" for key, value in counts.items())
