"""Partners, the accounts they can reach, and their ICP-overlap scores."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenancy.models import Tenant, TenantOwnedModel


class Partner(TenantOwnedModel):
    """An organisation in the tenant's partner program."""

    class Kind(models.TextChoices):
        AFFILIATE = "affiliate", "Affiliate"
        REFERRAL = "referral", "Referral"
        RESELLER = "reseller", "Reseller"
        TECHNOLOGY = "technology", "Technology"
        AGENCY = "agency", "Agency"

    class Status(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        APPLIED = "applied", "Applied"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        TERMINATED = "terminated", "Terminated"

    class Tier(models.TextChoices):
        GOLD = "gold", "Gold"
        SILVER = "silver", "Silver"
        BRONZE = "bronze", "Bronze"
        UNRANKED = "", "Unranked"

    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.REFERRAL)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    domain = models.CharField(max_length=253, blank=True)
    # True for partners made up by the demo loader rather than taken from real data.
    is_generated = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    # The admin or partner manager of the tenant who looks after the partner.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    tier = models.CharField(max_length=6, choices=Tier.choices, blank=True, default="")
    notes = models.TextField(blank=True)
    # What this partner sees of its account overlap; empty follows the tenant's setting.
    mapping_visibility = models.CharField(
        max_length=8, choices=Tenant.MappingVisibility.choices, blank=True, default=""
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="partner_unique_tenant_external_id"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ReachEntry(TenantOwnedModel):
    """One company a partner can introduce, matched to an account by domain.

    An entry that matches no account is scored against the active ICP on its own
    firmographics, which the partner may send with the entry. A matched entry uses
    its account's fit, and its own fit columns stay empty.
    """

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="reach")
    domain = models.CharField(max_length=253)
    company_name = models.CharField(max_length=255, blank=True)
    account = models.ForeignKey(
        "crm.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Where the entry came from, such as "upload" or "generated:demo".
    source = models.CharField(max_length=60, blank=True)
    # Firmographics as the partner sent them, with the meaning of the Account fields.
    industry = models.CharField(max_length=100, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    # Annual revenue in the tenant's base currency.
    annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    # ISO 3166-1 alpha-2 code.
    country = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=100, blank=True)
    tech_stack = models.JSONField(default=list, blank=True)
    # Fit of an unmatched entry with firmographics against the active ICP version,
    # rewritten by every partner score refresh. No constraint or index, as on Account.
    fit_score = models.PositiveSmallIntegerField(null=True, blank=True)
    fit_tier = models.CharField(max_length=1, blank=True)
    fit_version = models.ForeignKey(
        "icp.IcpVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "partner", "domain"], name="reach_unique_partner_domain"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "domain"], name="reach_tenant_domain")]


def customer_tiers_empty() -> dict[str, int]:
    """Return the customer counts of a partner without customers, by fit tier."""
    return {"A": 0, "B": 0, "C": 0, "D": 0, "unscored": 0}


class PartnerScore(TenantOwnedModel):
    """A partner's ICP overlap, delivered results and segment, as of the last refresh.

    `partners.overlap` defines the overlap parts and the score, `partners.quality`
    the results and `partners.segments` the segment.
    """

    class Segment(models.TextChoices):
        STRATEGIC = "strategic", "Strategic"
        GROW = "grow", "Grow"
        NURTURE = "nurture", "Nurture"
        DEPRIORITISE = "deprioritise", "Deprioritise"

    class SegmentBasis(models.TextChoices):
        OVERLAP_AND_RESULTS = "overlap_and_results", "Overlap and results"
        OVERLAP_ONLY = "overlap_only", "Overlap only, too few closed deals"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="scores")
    icp_version = models.ForeignKey(
        "icp.IcpVersion", on_delete=models.SET_NULL, null=True, related_name="+"
    )

    # Overlap of the reach list with the tenant's accounts and the ICP.
    reach_count = models.PositiveIntegerField(default=0)
    matched_count = models.PositiveIntegerField(default=0)
    # Matched entries plus unmatched entries scored on their own firmographics: the
    # base of on_profile_share.
    assessed_count = models.PositiveIntegerField(default=0)
    # Assessed entries in tier A or B, matched or not.
    on_profile_count = models.PositiveIntegerField(default=0)
    on_profile_share = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    # Unmatched entries scored on their own firmographics, and those in tier A or B.
    unmatched_scored_count = models.PositiveIntegerField(default=0)
    unmatched_on_profile_count = models.PositiveIntegerField(default=0)
    # Tier A/B accounts of the tenant that have no won deal yet.
    target_count = models.PositiveIntegerField(default=0)
    target_overlap_count = models.PositiveIntegerField(default=0)
    target_coverage = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    # Reached accounts with an open deal, and the sum of those open deals.
    pipeline_overlap_count = models.PositiveIntegerField(default=0)
    pipeline_overlap_amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    # Reached accounts with a won deal that have not churned.
    customer_overlap_count = models.PositiveIntegerField(default=0)
    # Sum of the fit scores of the reach / 100, and that divided by reach_count.
    fit_weighted_reach = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    fit_weighted_per_entry = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    on_profile_points = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    coverage_points = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    overlap_score = models.PositiveSmallIntegerField(default=0)

    # Results of the deals credited to the partner.
    won_deal_count = models.PositiveIntegerField(default=0)
    lost_deal_count = models.PositiveIntegerField(default=0)
    # won / (won + lost); null when the partner has no closed deal.
    win_rate = models.DecimalField(max_digits=5, decimal_places=4, null=True)
    won_revenue = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    # Won revenue of deals whose frozen fit tier is A or B.
    on_profile_won_revenue = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    # Distinct accounts with a won deal credited to the partner.
    customer_count = models.PositiveIntegerField(default=0)
    # Those customers by fit tier: {"A": 2, "B": 1, "C": 0, "D": 0, "unscored": 0}.
    customer_tiers = models.JSONField(default=customer_tiers_empty)
    # Customers in tier A or B / customer_count; null without customers.
    on_profile_customer_share = models.DecimalField(max_digits=5, decimal_places=4, null=True)
    churned_customer_count = models.PositiveIntegerField(default=0)
    churn_rate = models.DecimalField(max_digits=5, decimal_places=4, null=True)
    # Sum of the partner's ledger entries that are not void.
    commission_cost = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    # Won revenue net of churn, by the rule in partners.quality.
    lifetime_value = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    # commission_cost / lifetime_value; null when lifetime_value is 0.
    commission_to_lifetime_value = models.DecimalField(max_digits=12, decimal_places=4, null=True)

    segment = models.CharField(max_length=12, choices=Segment.choices, blank=True)
    segment_basis = models.CharField(max_length=20, choices=SegmentBasis.choices, blank=True)
    computed_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "partner"], name="partnerscore_unique"),
        ]


class PartnerApplication(TenantOwnedModel):
    """One submission of the public application form, kept as the applicant sent it."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="applications")
    company_name = models.CharField(max_length=200)
    # Registrable domain of the applicant's website.
    domain = models.CharField(max_length=253)
    contact_name = models.CharField(max_length=200)
    contact_email = models.EmailField(max_length=254)
    kind = models.CharField(max_length=12, choices=Partner.Kind.choices)
    message = models.TextField(blank=True)
    # Counts of the reach list sent with the application.
    reach_submitted = models.PositiveIntegerField(default=0)
    reach_accepted = models.PositiveIntegerField(default=0)
    reach_rejected = models.PositiveIntegerField(default=0)
    # Keyed hash of the client address, for abuse review; the address is never stored.
    client_hash = models.CharField(max_length=64, blank=True)
    # When the sign-up link went to the contact address. It is null when this
    # submission offered no portal sign-up, such as one for a known partner.
    signup_sent_at = models.DateTimeField(null=True, blank=True)
    # When the applicant opened the sign-up link and confirmed the contact address.
    email_verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="application_tenant_created"),
        ]

    def __str__(self) -> str:
        return f"{self.company_name} ({self.domain})"
