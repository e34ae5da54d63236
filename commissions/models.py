"""Fit-weighted commission plans and the append-only commission ledger."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from tenancy.models import TenantOwnedModel


class PayoutType(models.TextChoices):
    PERCENTAGE = "percentage", "Percentage of the deal amount"
    FLAT = "flat", "Flat amount per deal"


class CapPeriod(models.TextChoices):
    MONTH = "month", "Calendar month"
    QUARTER = "quarter", "Calendar quarter"
    YEAR = "year", "Calendar year"


class CommissionPlan(TenantOwnedModel):
    """The terms a won deal is paid by: a default rate or flat amount, rules, multipliers, caps.

    `commissions.pricing` decides an entry from a plan; `docs/commissions.md` gives
    the precedence of its rules.
    """

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

    # A draft is edited, previewed and simulated, and pays nothing until activated.
    is_draft = models.BooleanField(default=False)
    # The plan pays deals whose close date falls in [effective_from, effective_to];
    # null ends are open. Activation keeps the ranges of a tenant's plans apart.
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    payout_type = models.CharField(
        max_length=10, choices=PayoutType.choices, default=PayoutType.PERCENTAGE
    )
    # What a flat plan pays per deal, in the tenant's base currency, before multipliers.
    flat_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # Deals of accounts whose fit score is below this pay nothing; null pays every fit.
    min_fit_score = models.PositiveSmallIntegerField(null=True, blank=True)
    # [{"min_score": 90, "multiplier": "1.20"}, ...]: the band with the highest
    # min_score at or below the deal's fit score applies; no band gives 1.
    score_bands = models.JSONField(default=list, blank=True)
    # {"gold": "1.20", "silver": "1.00", "bronze": "0.80"}; a tier left out gives 1.
    partner_tier_multipliers = models.JSONField(default=dict, blank=True)
    # Renewals and expansions pay for this many months after the original deal's close
    # date; null pays for as long as the account renews, 0 pays new business only.
    recurring_months = models.PositiveSmallIntegerField(null=True, blank=True, default=12)
    # True: renewals and expansions pay the original accrual's rate and multipliers.
    # False: they are priced by this plan's rules as they stand when they are booked.
    recurring_rate_frozen = models.BooleanField(default=True)
    # Caps in the tenant's base currency; null is no cap.
    cap_per_deal = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    cap_per_partner = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    cap_period = models.CharField(max_length=8, choices=CapPeriod.choices, default=CapPeriod.MONTH)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="plan_unique_tenant_name"),
            models.CheckConstraint(
                condition=~models.Q(is_draft=True, is_active=True),
                name="plan_draft_not_active",
            ),
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_from__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="plan_effective_to_after_from",
            ),
            models.CheckConstraint(
                condition=~models.Q(payout_type="flat") | models.Q(flat_amount__gte=0),
                name="plan_flat_needs_amount",
            ),
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


class CommissionRule(TenantOwnedModel):
    """A rate or flat amount that replaces the plan's default for some deals.

    Precedence, highest first: partner, segment, partner tier, product, program.
    Within one scope a rule for the deal's kind beats a rule for every kind.
    """

    class Scope(models.TextChoices):
        PARTNER = "partner", "Partner override"
        SEGMENT = "segment", "Segment rule"
        PARTNER_TIER = "partner_tier", "Partner tier rule"
        PRODUCT = "product", "Product rule"
        PROGRAM = "program", "Program rule"

    class DealKind(models.TextChoices):
        ANY = "", "Every kind"
        NEW = "new", "New business"
        RENEWAL = "renewal", "Renewal"
        EXPANSION = "expansion", "Expansion"

    plan = models.ForeignKey(CommissionPlan, on_delete=models.CASCADE, related_name="rules")
    scope = models.CharField(max_length=12, choices=Scope.choices)
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The segment, partner tier or product the rule matches; empty for partner and program.
    value = models.CharField(max_length=100, blank=True)
    deal_kind = models.CharField(max_length=10, choices=DealKind.choices, blank=True)
    payout_type = models.CharField(max_length=10, choices=PayoutType.choices)
    rate = models.DecimalField(max_digits=6, decimal_places=4, null=True, blank=True)
    flat_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "scope", "partner", "value", "deal_kind"],
                nulls_distinct=False,
                name="rule_unique_match",
            ),
            models.CheckConstraint(
                condition=models.Q(payout_type="percentage", rate__gte=0, rate__lte=1)
                | models.Q(payout_type="flat", flat_amount__gte=0),
                name="rule_pays_rate_or_flat",
            ),
            models.CheckConstraint(
                condition=models.Q(scope="partner", partner__isnull=False)
                | (~models.Q(scope="partner") & models.Q(partner__isnull=True)),
                name="rule_partner_only_on_partner_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.value or self.partner_id or ''}".strip()


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
    # Which rule priced the entry (CommissionRule.Scope, "default" for the plan's own
    # rate, "frozen" for a renewal priced as its original accrual), and in words.
    rate_source = models.CharField(max_length=12, blank=True)
    rate_source_detail = models.CharField(max_length=255, blank=True)
    deal_kind = models.CharField(max_length=10, blank=True)
    # A flat entry's amount per deal before multipliers; null on percentage entries.
    flat_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    band_multiplier = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    partner_tier_multiplier = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True
    )
    # The amount before caps, when a cap or the minimum fit lowered it.
    uncapped_amount = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    # The deal's own amount and currency, and the rate that converted it into
    # `currency` (units of `currency` per unit of deal_currency); null before conversion.
    deal_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    deal_currency = models.CharField(max_length=3, blank=True)
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    # The accrual a renewal or expansion was priced from.
    original = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
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
            # Cursor pages of the API walk the tenant's rows by id.
            models.Index(fields=["tenant", "id"], name="ledger_tenant_id"),
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
    # The ids of the entries a carried-over payout left unassigned, for its statement.
    # A carried-over payout has no lines, because its entries join the next payout.
    carried_entry_ids = models.JSONField(default=list, blank=True)

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
            models.Index(fields=["tenant", "id"], name="revenue_event_tenant_id"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}"


class Recalculation(TenantOwnedModel):
    """A previewed re-pricing of booked accruals under a plan, applied as adjustments.

    `commissions.recalculation` builds the lines when the preview is created and
    again when it is applied; the apply writes nothing unless both fingerprints match.
    """

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        APPLIED = "applied", "Applied"
        DISCARDED = "discarded", "Discarded"
        EXPIRED = "expired", "Expired"

    plan = models.ForeignKey(CommissionPlan, on_delete=models.PROTECT, related_name="+")
    # Deals that closed in [close_from, close_to] are re-priced.
    close_from = models.DateField()
    close_to = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    # One dict per accrual whose amount changes: accrual_id, partner_id, partner_name,
    # deal_id, deal_external_id, currency, old_amount, reversed, new_amount, delta,
    # rate_source and rate_source_detail, with amounts as decimal strings.
    lines = models.JSONField(default=list)
    # Per partner and currency: partner_id, partner_name, currency, accruals, old, new, delta.
    totals = models.JSONField(default=list)
    # SHA-256 of the lines, compared when the recalculation is applied.
    fingerprint = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_by_label = models.CharField(max_length=150, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    discarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(close_to__gte=models.F("close_from")),
                name="recalculation_close_to_after_from",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="recalculation_tenant_created"),
        ]

    def __str__(self) -> str:
        return f"Recalculation {self.pk} under {self.plan_id}"


# Imported here so that Django registers the model with the commissions app.
from commissions.fx_models import ExchangeRate  # noqa: E402, F401

# Market development funds live in their own module and are imported here so that
# Django registers them with this app.
from commissions.mdf_models import (  # noqa: E402, F401
    MdfAllocation,
    MdfBudget,
    MdfClaim,
    MdfProof,
    MdfRequest,
)
