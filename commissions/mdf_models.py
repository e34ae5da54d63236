"""Market development funds: budgets per period, allocations, requests, claims and proof.

MDF money stays in these records and never enters the commission ledger, because
it reimburses a partner's marketing spend instead of paying for a won deal, and
payouts must not net the two against each other.
"""

from __future__ import annotations

import pathlib
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models

from tenancy.models import TenantOwnedModel


class MdfBudget(TenantOwnedModel):
    """A tenant's MDF budget for one calendar month or quarter, in its base currency."""

    class PeriodKind(models.TextChoices):
        MONTH = "month", "Month"
        QUARTER = "quarter", "Quarter"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ALLOCATED = "allocated", "Allocated"

    period_kind = models.CharField(max_length=7, choices=PeriodKind.choices)
    period_start = models.DateField()
    period_end = models.DateField(help_text="Last day of the period, inclusive.")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.DRAFT)
    # Won deals closed in this many months before period_start weight the allocation.
    lookback_months = models.PositiveSmallIntegerField(default=12)
    # Revenue of each frozen fit tier counts this many times toward a partner's weight.
    weight_a = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("1.000"))
    weight_b = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("0.500"))
    weight_c = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("0.000"))
    weight_d = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("0.000"))
    weight_unscored = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("0.000"))
    # Won partner deals of the window left out of the last allocation because their
    # currency is not the budget's.
    excluded_deal_count = models.PositiveIntegerField(default=0)
    allocated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "period_kind", "period_start"], name="mdf_budget_unique_period"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="mdf_budget_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    weight_a__gte=0,
                    weight_b__gte=0,
                    weight_c__gte=0,
                    weight_d__gte=0,
                    weight_unscored__gte=0,
                ),
                name="mdf_budget_weights_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-period_start"], name="mdf_budget_period")]

    def __str__(self) -> str:
        return f"MDF {self.period_label} {self.amount} {self.currency}"

    @property
    def period_label(self) -> str:
        if self.period_kind == self.PeriodKind.QUARTER:
            return f"{self.period_start.year}-Q{(self.period_start.month - 1) // 3 + 1}"
        return f"{self.period_start:%Y-%m}"


class MdfAllocation(TenantOwnedModel):
    """One partner's share of a budget, with the inputs that produced it."""

    budget = models.ForeignKey(MdfBudget, on_delete=models.CASCADE, related_name="allocations")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    # Won deal revenue in the budget's currency per frozen fit tier, inside the window.
    revenue_a = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    revenue_b = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    revenue_c = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    revenue_d = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    revenue_unscored = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    deal_count = models.PositiveIntegerField(default=0)
    # Σ revenue of a tier × the budget's weight of that tier.
    weight = models.DecimalField(max_digits=24, decimal_places=5)
    # weight / the sum of all partners' weights, from 0 to 1.
    share = models.DecimalField(max_digits=11, decimal_places=10)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    # Σ committed_amount of the partner's requests against this allocation.
    committed = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "partner"], name="mdf_allocation_unique_partner"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0, committed__gte=0),
                name="mdf_allocation_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"MDF allocation {self.pk} partner {self.partner_id} {self.amount}"

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.committed


class MdfRequest(TenantOwnedModel):
    """A partner's request for funds for one marketing activity."""

    class ActivityType(models.TextChoices):
        EVENT = "event", "Event"
        CONTENT = "content", "Content"
        ADS = "ads", "Ads"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"

    allocation = models.ForeignKey(MdfAllocation, on_delete=models.PROTECT, related_name="requests")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    # Chosen by the client; a retried submit with the same key returns the first request.
    idempotency_key = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    activity_type = models.CharField(max_length=7, choices=ActivityType.choices)
    planned_start = models.DateField()
    planned_end = models.DateField()
    requested_amount = models.DecimalField(max_digits=14, decimal_places=2)
    approved_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # What the request holds of the allocation: the approved amount, then the accepted
    # claim's reimbursed amount, or 0 once its claim is rejected.
    committed_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.SUBMITTED)
    decision_reason = models.CharField(max_length=500, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "partner", "idempotency_key"],
                name="mdf_request_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=models.Q(requested_amount__gt=0, committed_amount__gte=0),
                name="mdf_request_amounts",
            ),
            models.CheckConstraint(
                condition=models.Q(planned_end__gte=models.F("planned_start")),
                name="mdf_request_dates_ordered",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="mdf_request_created")]

    def __str__(self) -> str:
        return f"MDF request {self.pk} {self.title}"


class MdfClaim(TenantOwnedModel):
    """The partner's claim for the money an approved request spent, with proof attached."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        REIMBURSED = "reimbursed", "Reimbursed"

    request = models.OneToOneField(MdfRequest, on_delete=models.PROTECT, related_name="claim")
    claimed_amount = models.DecimalField(max_digits=14, decimal_places=2)
    reimbursed_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    notes = models.TextField(blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)
    payment_reference = models.CharField(max_length=100, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reimbursed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(claimed_amount__gt=0), name="mdf_claim_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"MDF claim {self.pk} {self.claimed_amount}"


def proof_upload_path(proof: MdfProof, filename: str) -> str:
    """Store each proof under its tenant with a random name, so names never collide or leak."""
    suffix = pathlib.Path(filename).suffix.lower()
    return f"mdf-proofs/{proof.tenant_id}/{uuid.uuid4().hex}{suffix}"


class MdfProof(TenantOwnedModel):
    """One invoice or receipt of a claim, served only through tenant-checked views."""

    claim = models.ForeignKey(MdfClaim, on_delete=models.CASCADE, related_name="proofs")
    file = models.FileField(upload_to=proof_upload_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=30)
    size = models.PositiveIntegerField()

    def __str__(self) -> str:
        return self.original_name
