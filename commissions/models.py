"""Fit-weighted commission plans and the append-only commission ledger."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from tenancy.models import TenantOwnedModel


class CommissionPlan(TenantOwnedModel):
    """A base rate on won deal value, multiplied by the account's ICP tier and partner segment."""

    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    # Fraction of the deal amount, e.g. 0.1000 for 10 %.
    base_rate = models.DecimalField(max_digits=6, decimal_places=4)
    multiplier_a = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1.50"))
    multiplier_b = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1.00"))
    multiplier_c = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0.50"))
    multiplier_d = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0.00"))
    # Multipliers by the partner's segment (partners.segments) when the deal is booked.
    # A partner without a segment gets 1.
    segment_multiplier_strategic = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("1.00")
    )
    segment_multiplier_grow = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("1.00")
    )
    segment_multiplier_nurture = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("1.00")
    )
    segment_multiplier_deprioritise = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("1.00")
    )
    # Days after the deal's close date before a pending accrual is approved for payout.
    holding_days = models.PositiveSmallIntegerField(default=30)
    # A partner's payout total below this, per currency, is not paid and carries over.
    min_payout_amount = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("50.00")
    )
    # Days after a deal's close date in which churn takes back the unearned part of
    # its commission; 0 turns clawback off.
    clawback_days = models.PositiveIntegerField(default=90)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="plan_unique_tenant_name"),
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(is_active=True),
                name="plan_one_active_per_tenant",
                violation_error_message="A tenant has at most one active commission plan.",
            ),
            models.CheckConstraint(
                condition=models.Q(base_rate__gte=0, base_rate__lte=1),
                name="plan_base_rate_between_0_and_1",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    multiplier_a__gte=0,
                    multiplier_b__gte=0,
                    multiplier_c__gte=0,
                    multiplier_d__gte=0,
                ),
                name="plan_multipliers_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    segment_multiplier_strategic__gte=0,
                    segment_multiplier_grow__gte=0,
                    segment_multiplier_nurture__gte=0,
                    segment_multiplier_deprioritise__gte=0,
                ),
                name="plan_segment_multipliers_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def multiplier_for(self, tier: str) -> Decimal:
        """Return the multiplier of ICP tier "A" to "D"; unscored accounts get tier D's."""
        return {
            "A": self.multiplier_a,
            "B": self.multiplier_b,
            "C": self.multiplier_c,
        }.get(tier, self.multiplier_d)

    def segment_multiplier_for(self, segment: str | None) -> Decimal:
        """Return the multiplier of a partner segment; no segment gets 1."""
        if not segment:
            return Decimal("1.00")
        return getattr(self, f"segment_multiplier_{segment}")


class LedgerEntry(TenantOwnedModel):
    """One append-only commission entry; corrections are new entries.

    A database trigger rejects deletes and any update other than a status change,
    so amounts, rates and the frozen fit cannot be edited after the fact.
    """

    class Kind(models.TextChoices):
        ACCRUAL = "accrual", "Accrual"
        REVERSAL = "reversal", "Reversal"
        ADJUSTMENT = "adjustment", "Adjustment"
        BONUS = "bonus", "Bonus"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        # Held for review while an open fraud signal covers the entry.
        HELD = "held", "Held for review"
        APPROVED = "approved", "Approved"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    deal = models.ForeignKey(
        "crm.Deal", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    plan = models.ForeignKey(CommissionPlan, on_delete=models.PROTECT, null=True, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.ACCRUAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Retrying the same write produces the same key, which the unique constraint
    # turns into a no-op.
    idempotency_key = models.CharField(max_length=120)
    base_amount = models.DecimalField(max_digits=14, decimal_places=2)
    rate = models.DecimalField(max_digits=6, decimal_places=4)
    # The plan's multiplier for fit_tier.
    multiplier = models.DecimalField(max_digits=5, decimal_places=2)
    # The partner's segment when the entry was booked ("" when it had none), and the
    # plan's multiplier for it. Null on entries booked before segments existed, which
    # used 1, so null and "" mean different things.
    partner_segment = models.CharField(max_length=12, null=True, blank=True)  # noqa: DJ001
    segment_multiplier = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    fit_tier = models.CharField(max_length=1, blank=True)
    fit_score = models.PositiveSmallIntegerField(null=True, blank=True)
    icp_version = models.ForeignKey(
        "icp.IcpVersion", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Four decimals hold every ISO 4217 minor unit, and 18 digits the largest deal
    # amount (below 10^12) times the largest rate (1), tier multiplier (10) and
    # segment multiplier (5).
    amount = models.DecimalField(max_digits=18, decimal_places=4)
    currency = models.CharField(max_length=3)
    memo = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The entry a reversal takes back, null on every other kind.
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )
    # The refund or churn that wrote a reversal.
    revenue_event = models.ForeignKey(
        "commissions.RevenueEvent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )

    class Meta:
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], name="ledger_unique_idempotency_key"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "partner", "-created_at"], name="ledger_tenant_partner"),
            models.Index(fields=["tenant", "-created_at"], name="ledger_tenant_created"),
        ]


class Payout(TenantOwnedModel):
    """What one partner is paid in one currency for one period, built from approved entries.

    A prepared payout needs a second staff member's approval before it is marked paid.
    A total below the plan's minimum, or below zero, is recorded as carried over: its
    entries stay unassigned and join the next period's payout.
    """

    class Status(models.TextChoices):
        PREPARED = "prepared", "Prepared"
        APPROVED = "approved", "Approved"
        PAID = "paid", "Paid"
        CARRIED_OVER = "carried_over", "Carried over"

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField(help_text="Last day of the period, inclusive.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PREPARED)
    total = models.DecimalField(max_digits=18, decimal_places=4)
    entry_count = models.PositiveIntegerField()
    # The threshold in force when the payout was prepared.
    min_payout_amount = models.DecimalField(max_digits=14, decimal_places=2)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    prepared_by_label = models.CharField(max_length=150, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "partner", "period_start", "currency"],
                name="payout_unique_partner_period_currency",
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="payout_period_end_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-period_start"], name="payout_tenant_period"),
        ]

    def __str__(self) -> str:
        return f"Payout {self.pk} {self.period_start:%Y-%m} {self.currency} {self.total}"


class PayoutLine(TenantOwnedModel):
    """One ledger entry in one payout; an entry belongs to at most one payout."""

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="lines")
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="payout_line")


class RevenueEvent(TenantOwnedModel):
    """A refund of a won deal or the churn of an account, which reverses commission.

    The client's external id is unique per tenant, so sending an event again is a
    no-op. `processed_at` is set once the reversals are written.
    """

    class Kind(models.TextChoices):
        REFUND = "refund", "Refund"
        CHURN = "churn", "Churn"

    external_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=6, choices=Kind.choices)
    # A refund names the deal; a churn names the account.
    deal = models.ForeignKey(
        "crm.Deal", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    account = models.ForeignKey(
        "crm.Account", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The refunded amount in the deal's currency; null on a churn.
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    occurred_on = models.DateField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="revenue_event_unique_external_id"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="refund", deal__isnull=False, amount__gt=0)
                    | models.Q(kind="churn", account__isnull=False, amount__isnull=True)
                ),
                name="revenue_event_kind_fields",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="revenue_event_tenant_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}"


# Market development funds live in their own module and are imported here so that
# Django registers them with this app.
from commissions.mdf_models import (  # noqa: E402, F401
    MdfAllocation,
    MdfBudget,
    MdfClaim,
    MdfProof,
    MdfRequest,
)
