"""Versions of a tenant's Ideal Customer Profile."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenancy.models import TenantOwnedModel


class IcpVersion(TenantOwnedModel):
    """A set of weighted criteria with tier cut-offs; one version per tenant is active.

    `criteria` is a list of dicts, each with `key`, `label`, `field`, `kind`
    ("category" with `values`, or "range" with `min`/`max`), `weight` (points,
    summing to 100 over all criteria) and, when learned, `support` and `lift`.
    `tier_cutoffs` maps "A", "B" and "C" to the lowest score of that tier; lower
    scores are tier D.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    class Provenance(models.TextChoices):
        LEARNED = "learned", "Learned from closed deals"
        MANUAL = "manual", "Written by hand"
        COPIED = "copied", "Copied from another version"
        DRIFT = "drift", "Drafted from a drift report"

    class Signal(models.TextChoices):
        # How well the learned criteria separate good accounts from bad in
        # cross-validation; WEAK and NONE are shown as warnings.
        STRONG = "strong", "Strong"
        WEAK = "weak", "Weak"
        NONE = "none", "None"

    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    provenance = models.CharField(max_length=10, choices=Provenance.choices)
    # Outcome the criteria were learned against: "won" (won vs lost) or "won_value".
    objective = models.CharField(max_length=20, blank=True)
    signal = models.CharField(max_length=10, choices=Signal.choices, blank=True)
    # A plain-language verdict on what the data does and does not support.
    summary = models.TextField(blank=True)
    criteria = models.JSONField(default=list)
    tier_cutoffs = models.JSONField(default=dict)
    # Validation figures: cross-validated ROC AUC, win rate and value per tier, counts.
    metrics = models.JSONField(default=dict, blank=True)
    trained_from = models.DateField(null=True, blank=True)
    trained_to = models.DateField(null=True, blank=True)
    review_due_on = models.DateField(null=True, blank=True)
    # The due date whose reminder e-mail went out, so each due review is mailed once.
    review_reminded_for = models.DateField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The version this one was copied or drafted from.
    based_on = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="icpversion_unique_number"),
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(status="active"),
                name="icpversion_one_active_per_tenant",
                violation_error_message="A tenant has at most one active ICP version.",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.number} {self.name}"

    @property
    def objective_label(self) -> str:
        """Name the outcome the criteria predict, for labels such as "signal for won value"."""
        labels = {"won": "won vs lost deals", "won_value": "won value per account"}
        return labels.get(self.objective, self.objective)
