"""Tenants, their members, API keys and the audit trail."""

from __future__ import annotations

import datetime
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenancy.scope import AllTenantsManager, TenantManager, current_tenant_id


class TimestampedModel(models.Model):
    """Abstract base with creation and update times."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Tenant(TimestampedModel):
    """A company running a partner program."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    base_currency = models.CharField(max_length=3, default="USD")
    time_zone = models.CharField(max_length=64, default="UTC")
    # How many days before a deal's close date a partner's touch still counts for the
    # deal. A registration also expires this many days after it was made.
    attribution_window_days = models.PositiveIntegerField(default=365)

    class Touch(models.TextChoices):
        FIRST = "first", "First touch"
        LAST = "last", "Last touch"

    # Which of a company's partner touches inside the window wins a deal.
    attribution_touch = models.CharField(max_length=5, choices=Touch.choices, default=Touch.FIRST)
    # Hosts that partners' tracking links may redirect to, such as ["acme.com"]; each
    # host also allows its subdomains. Empty until an admin or partner manager sets it,
    # and no link can be created while it is empty.
    link_domains = models.JSONField(default=list, blank=True)

    class MappingVisibility(models.TextChoices):
        COUNTS = "counts", "Counts only"
        NAMES = "names", "Overlapping account names"
        DETAILS = "details", "Overlapping account details"

    # What partners see of the overlap between their reach and the tenant's
    # accounts, unless a partner has its own setting. Never anything outside it.
    mapping_visibility = models.CharField(
        max_length=8, choices=MappingVisibility.choices, default=MappingVisibility.NAMES
    )
    # True when the public partner application page at /apply/<slug>/ takes applications.
    applications_open = models.BooleanField(default=False)
    # Days from an ICP version's activation to its review.
    icp_review_days = models.PositiveSmallIntegerField(default=90)
    # Highest commission cost / expected customer lifetime value a partner may reach
    # before the unit economics page and its partner page warn, from 0 to 1.
    max_commission_share = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal("0.3000")
    )

    def __str__(self) -> str:
        return self.name

    def today(self) -> datetime.date:
        """Return today's date in the tenant's time zone, for "not in the future" checks."""
        return timezone.localdate(timezone=zoneinfo.ZoneInfo(self.time_zone))


class TenantOwnedModel(TimestampedModel):
    """Abstract base for every row that belongs to one tenant."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()
    all_tenants = AllTenantsManager()

    class Meta:
        abstract = True
        base_manager_name = "all_tenants"

    def save(self, *args, **kwargs):
        if self.tenant_id is None:
            self.tenant_id = current_tenant_id()
        super().save(*args, **kwargs)


class Membership(TimestampedModel):
    """A user's role in one tenant; partner users are tied to one partner."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        PARTNER_MANAGER = "partner_manager", "Partner manager"
        ANALYST = "analyst", "Analyst"
        PARTNER = "partner", "Partner user"

    STAFF_ROLES = (Role.ADMIN, Role.PARTNER_MANAGER, Role.ANALYST)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user"], name="membership_unique_tenant_user"
            ),
            models.CheckConstraint(
                condition=(models.Q(role="partner", partner__isnull=False))
                | (~models.Q(role="partner") & models.Q(partner__isnull=True)),
                name="membership_partner_iff_partner_role",
                violation_error_message="Partner users need a partner; staff roles take none.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} as {self.role}"

    @property
    def is_staff_role(self) -> bool:
        return self.role in self.STAFF_ROLES


class ApiKey(TenantOwnedModel):
    """A tenant's API key; only a SHA-256 digest of the secret is stored."""

    name = models.CharField(max_length=100)
    # The first characters of the key, shown in lists so people can tell keys apart.
    prefix = models.CharField(max_length=12)
    # Unique across tenants because the key itself is what identifies the tenant.
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Written at most once a minute per key, so it lags real use by up to a minute.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Scopes such as ["crm:read", "partners:write"]; see tenancy.api.scopes.
    scopes = models.JSONField(default=list)
    # The key is rejected from this time on; None means it never expires.
    expires_at = models.DateTimeField(null=True, blank=True)
    # Request rate such as "600/min"; blank uses the TRACK360_API_RATE setting.
    rate = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="apikey_unique_tenant_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_expired(self, now: datetime.datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    STATUSES = ("active", "expired", "revoked")

    @property
    def status(self) -> str:
        """Return "revoked", "expired" or "active"."""
        if self.revoked_at is not None:
            return "revoked"
        if self.is_expired():
            return "expired"
        return "active"


class AuditEvent(TenantOwnedModel):
    """One change to money, rules, ICP versions, roles or keys."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # What acted when no user did, such as "api-key:ab12cd" or "worker".
    actor_label = models.CharField(max_length=100, blank=True)
    event = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=80)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="audit_tenant_created")]

    def __str__(self) -> str:
        return f"{self.event} {self.object_type}:{self.object_id}"


class IdempotencyRecord(TenantOwnedModel):
    """A request sent with an Idempotency-Key header and the response it got.

    `tenancy.idempotency` inserts the row before the request runs, so a second
    request with the same key sees it, and stores the response when it finishes.
    Rows older than `tenancy.idempotency.KEY_TTL` are expired and deleted.
    """

    key = models.CharField(max_length=255)
    # Method and path, such as "POST /api/v1/deals/bulk/": a key belongs to one endpoint.
    endpoint = models.CharField(max_length=300)
    # SHA-256 hex digest of the method, path and the JSON body with sorted keys.
    request_hash = models.CharField(max_length=64)
    # Both null while the first request is still running.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="idempotency_unique_tenant_key"),
        ]
        # The expiry task deletes old rows of every tenant at once.
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.key} {self.endpoint}"
