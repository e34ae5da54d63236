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
    """One company a partner can introduce, matched to an account by domain."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="reach")
    domain = models.CharField(max_length=253)
    company_name = models.CharField(max_length=255, blank=True)
    account = models.ForeignKey(
        "crm.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Where the entry came from, such as "upload" or "generated:demo".
    source = models.CharField(max_length=60, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "partner", "domain"], name="reach_unique_partner_domain"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "domain"], name="reach_tenant_domain")]


class PartnerScore(TenantOwnedModel):
    """A partner's ICP overlap against the active ICP version, with its parts."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    icp_version = models.ForeignKey(
        "icp.IcpVersion", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reach_count = models.PositiveIntegerField(default=0)
    matched_count = models.PositiveIntegerField(default=0)
    # Matched reach accounts in tiers A or B.
    on_profile_count = models.PositiveIntegerField(default=0)
    on_profile_share = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    # Tier A/B accounts of the tenant that have no won deal yet.
    target_count = models.PositiveIntegerField(default=0)
    target_overlap_count = models.PositiveIntegerField(default=0)
    target_coverage = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    overlap_score = models.PositiveSmallIntegerField(default=0)
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

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="application_tenant_created"),
        ]

    def __str__(self) -> str:
        return f"{self.company_name} ({self.domain})"
