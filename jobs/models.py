"""Long-running work started from the dashboard or the API, with its progress."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenancy.models import TenantOwnedModel


class Job(TenantOwnedModel):
    """One run of a background task that reports how far it has got.

    The worker moves it from QUEUED to RUNNING and on to SUCCEEDED or FAILED, and
    writes `done` out of `total` as it goes, so pages and the API can show a
    progress bar. `result` contains what the task produced, such as the id of a new
    ICP version, and `target_url` where to look at it.
    """

    class Kind(models.TextChoices):
        ICP_LEARN = "icp.learn", "Learn an ICP draft"
        ICP_RESCORE = "icp.rescore", "Rescore accounts and partners"
        CSV_IMPORT = "crm.import", "Import a CSV file"
        PLAN_SIMULATE = "commissions.simulate", "Simulate a commission plan"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        # A newer job of the same kind made this one pointless, such as a second
        # activation while the first rescore was running.
        SUPERSEDED = "superseded", "Superseded"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.SUPERSEDED)

    kind = models.CharField(max_length=30, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    # What the job works on, such as "icp_version:12".
    subject = models.CharField(max_length=100, blank=True)
    stage = models.CharField(max_length=200, blank=True)
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    target_url = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "kind", "-created_at"], name="job_tenant_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def percent(self) -> int | None:
        """Return progress as a whole percentage, or None while the total is unknown."""
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.total:
            return None
        return min(100, int(self.done * 100 // self.total))
