"""Which partner a won deal belongs to: referral registrations, tracking links, clicks
and the fraud signals that hold a partner's commissions for review.

A registration and a converted click are both touches on a company, keyed by its
registrable domain. The tenant's attribution window and first- or last-touch rule
pick the partner among the touches before a deal closes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenancy.models import TenantOwnedModel


class Referral(TenantOwnedModel):
    """A partner's registration of a company it introduces (deal registration)."""

    class Status(models.TextChoices):
        # Eligible when registered; counts for attribution inside the window.
        APPROVED = "approved", "Approved"
        # Blocked at registration by a conflict; `conflict` says which.
        CONFLICT = "conflict", "Conflict"
        # Turned down by a partner manager.
        REJECTED = "rejected", "Rejected"

    class Conflict(models.TextChoices):
        NONE = "", "None"
        CUSTOMER = "customer", "Already a customer"
        OPEN_DEAL = "open_deal", "Open deal"
        REGISTERED = "registered", "Registered by another partner"

    class Source(models.TextChoices):
        PORTAL = "portal", "Partner portal"
        API = "api", "API"
        STAFF = "staff", "Dashboard"
        IMPORT = "import", "Import"
        LINK = "link", "Tracking link"

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    # Registrable domain of the company, normalised like account domains.
    domain = models.CharField(max_length=253)
    company_name = models.CharField(max_length=255, blank=True)
    contact_email = models.CharField(max_length=254, blank=True)
    notes = models.TextField(blank=True)
    # The tenant's account with this domain when one exists; kept in step on import.
    account = models.ForeignKey(
        "crm.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    registered_at = models.DateTimeField()
    # Last day the registration counts for attribution: registered_at + the window.
    expires_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices)
    conflict = models.CharField(max_length=12, choices=Conflict.choices, blank=True, default="")
    # The holder of a "registered" conflict, or the deal of an "open_deal" one.
    conflict_detail = models.JSONField(default=dict, blank=True)
    # The account's fit when the partner registered it; empty for unknown companies.
    fit_score = models.PositiveSmallIntegerField(null=True, blank=True)
    fit_tier = models.CharField(max_length=1, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            # One registration per partner and company: registering again returns it.
            models.UniqueConstraint(
                fields=["tenant", "partner", "domain"], name="referral_unique_partner_domain"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "domain", "registered_at"], name="referral_domain"),
            models.Index(fields=["tenant", "partner", "-registered_at"], name="referral_partner"),
            models.Index(fields=["tenant", "status", "-registered_at"], name="referral_status"),
            # Cursor pages of the API walk the tenant's rows by id.
            models.Index(fields=["tenant", "id"], name="referral_tenant_id"),
        ]

    def __str__(self) -> str:
        return f"{self.domain} by partner {self.partner_id}"


class TrackingLink(TenantOwnedModel):
    """A partner's short link: /r/<code> records a click and redirects to `destination`."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    # Unique across tenants, because the redirect URL carries no tenant.
    code = models.CharField(max_length=16, unique=True)
    label = models.CharField(max_length=100, blank=True)
    destination = models.URLField(max_length=2000)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    def __str__(self) -> str:
        return self.code


class Click(TenantOwnedModel):
    """One visit through a tracking link, written in batches by the worker."""

    link = models.ForeignKey(TrackingLink, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    clicked_at = models.DateTimeField()
    # The first-party cookie's random id; the same visitor keeps it across clicks.
    visitor_id = models.CharField(max_length=40)
    # Keyed hash of the client address; the address itself is never stored.
    ip_hash = models.CharField(max_length=64)
    user_agent = models.CharField(max_length=300, blank=True)
    referer_host = models.CharField(max_length=253, blank=True)
    # Unique per click, so a batch written twice adds no rows.
    click_id = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "click_id"], name="click_unique_id"),
        ]
        indexes = [
            models.Index(fields=["tenant", "partner", "clicked_at"], name="click_partner_time"),
            models.Index(fields=["tenant", "visitor_id"], name="click_visitor"),
        ]


class Touch(TenantOwnedModel):
    """A partner's touch on a company: a registration, or a link visitor who converted.

    Attribution picks among a company's touches inside the window before a deal's
    close date, the first or the last by the tenant's rule.
    """

    class Kind(models.TextChoices):
        REGISTRATION = "registration", "Registration"
        LINK = "link", "Tracking link"

    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    domain = models.CharField(max_length=253)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    touched_at = models.DateTimeField()
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    click = models.ForeignKey(
        Click, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Set by the caller or derived from the referral or click, so retries add nothing.
    idempotency_key = models.CharField(max_length=120)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], name="touch_unique_idempotency_key"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "domain", "touched_at"], name="touch_domain")]


class VisitorConversion(TenantOwnedModel):
    """The tenant's report that a link visitor became a company (signed up, bought).

    The visitor's clicks up to `converted_at` become link touches on `domain`,
    also clicks that the worker writes after the report arrived.
    """

    visitor_id = models.CharField(max_length=40)
    domain = models.CharField(max_length=253)
    converted_at = models.DateTimeField()
    # Who reported it, such as "api-key:t360_ab12cd".
    reported_by = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            # A visitor converts into a company once; reporting it again changes nothing.
            models.UniqueConstraint(
                fields=["tenant", "visitor_id", "domain"], name="conversion_unique_visitor"
            ),
        ]


class FraudSignal(TenantOwnedModel):
    """A pattern that holds a partner's commissions until a manager reviews it."""

    class Kind(models.TextChoices):
        SELF_REFERRAL = "self_referral", "Self-referral"
        CLICK_FLOOD = "click_flood", "Click flood"
        DUPLICATE_REGISTRATION = "duplicate_registration", "Duplicate registrations"
        OFF_PROFILE_BURST = "off_profile_burst", "Burst of off-profile companies"
        FOOTPRINTLESS_BURST = "footprintless_burst", "Burst of companies without a footprint"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DISMISSED = "dismissed", "Dismissed"
        CONFIRMED = "confirmed", "Confirmed"

    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # The registration the signal is about; empty for partner-wide patterns.
    referral = models.ForeignKey(
        Referral, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Plain-language evidence, such as counts, the window and the source.
    summary = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    # Derived from the kind and its evidence, so detecting twice adds nothing.
    idempotency_key = models.CharField(max_length=120)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], name="fraudsignal_unique_key"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "-created_at"], name="fraudsignal_status"),
            models.Index(fields=["tenant", "partner", "status"], name="fraudsignal_partner"),
        ]
