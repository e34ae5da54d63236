"""Accounts (companies), their deals, and CSV import runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenancy.models import Tenant, TenantOwnedModel


class Account(TenantOwnedModel):
    """A company: customer or prospect, keyed per tenant by external id and domain.

    A rescore after an ICP activation may rewrite the fit of every account, so the
    table has few indexes and none on the fit columns. PostgreSQL can then update a
    fit in place (a HOT update) instead of adding an entry to every index, whenever
    the row's page has room. The fill factor of 75, set in the migrations, leaves it.
    """

    class Tier(models.TextChoices):
        A = "A", "A"
        B = "B", "B"
        C = "C", "C"
        D = "D", "D"

    # The unique (tenant, external_id) index serves lookups by tenant, so the tenant
    # column needs no index of its own.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=255)
    # Registrable domain, normalised: "www.Acme.co.uk." is stored as "acme.co.uk".
    domain = models.CharField(max_length=253, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    # Annual revenue in the tenant's base currency.
    annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    # ISO 3166-1 alpha-2 code.
    country = models.CharField(max_length=2, blank=True)
    # Free-form region below country level, such as a US state code.
    region = models.CharField(max_length=100, blank=True)
    year_established = models.PositiveSmallIntegerField(null=True, blank=True)
    parent_name = models.CharField(max_length=255, blank=True)
    tech_stack = models.JSONField(default=list, blank=True)
    # Budget the account has stated for this kind of product, in the base currency.
    budget = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    # Buying triggers by name, each the ISO date it last happened, such as
    # {"funding": "2026-09-14", "new_cto": "2026-06-01"}.
    triggers = models.JSONField(default=dict, blank=True)
    # The day the account stopped being a customer; empty while it is one or never was.
    churned_on = models.DateField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    # Where the row came from, such as "import:12" or "generated:inc5000".
    source = models.CharField(max_length=60, blank=True)
    referred_by = models.ForeignKey(
        "partners.Partner",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referred_accounts",
    )
    referred_at = models.DateField(null=True, blank=True)
    # Current fit against the tenant's active ICP version; rewritten on every rescore.
    fit_score = models.PositiveSmallIntegerField(null=True, blank=True)
    fit_tier = models.CharField(max_length=1, choices=Tier.choices, blank=True)
    # No database constraint or index: a checked foreign key costs a lookup per
    # rewritten fit at commit, and versions that scored accounts are never deleted.
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
                fields=["tenant", "external_id"], name="account_unique_tenant_external_id"
            ),
            models.UniqueConstraint(
                fields=["tenant", "domain"],
                condition=~models.Q(domain=""),
                name="account_unique_tenant_domain",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "name"], name="account_tenant_name"),
            # Cursor pages of the API walk the tenant's rows by id.
            models.Index(fields=["tenant", "id"], name="account_tenant_id"),
        ]

    def __str__(self) -> str:
        return self.name


class Deal(TenantOwnedModel):
    """An opportunity on an account, from the CRM or the API."""

    class Stage(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    class Kind(models.TextChoices):
        NEW = "new", "New business"
        RENEWAL = "renewal", "Renewal"
        EXPANSION = "expansion", "Expansion"

    class Source(models.TextChoices):
        DIRECT = "direct", "Direct"
        PARTNER = "partner", "Partner"

    class PipelineStatus(models.TextChoices):
        # Won deals wait in PENDING until the pipeline has scored, attributed and
        # paid them; the periodic sweep retries any that stay there.
        NOT_APPLICABLE = "n/a", "Not applicable"
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        # The pipeline could not process the deal, and `pipeline_error` contains the reason.
        FAILED = "failed", "Failed"

    external_id = models.CharField(max_length=100)
    account = models.ForeignKey(
        "crm.Account", on_delete=models.PROTECT, null=True, blank=True, related_name="deals"
    )
    name = models.CharField(max_length=255, blank=True)
    product = models.CharField(max_length=100, blank=True)
    # New business, or a renewal or expansion of an account that is already a customer.
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NEW)
    owner = models.CharField(max_length=100, blank=True)
    stage = models.CharField(max_length=10, choices=Stage.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD")
    # The amount in the tenant's base currency at the tenant's exchange rate for the
    # close date (today for a deal without one), which reports add up. Null while
    # the rate is missing. Booking freezes it with the rate the ledger used.
    amount_base = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    engage_date = models.DateField(null=True, blank=True)
    close_date = models.DateField(null=True, blank=True)
    # Partner named by the source system; the pipeline may also attribute one from
    # the account's referral.
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="deals"
    )
    # True when the source system named the partner; otherwise the partner comes
    # from a referral and is recomputed until the deal is booked.
    partner_named = models.BooleanField(default=False)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.DIRECT)
    pipeline_status = models.CharField(
        max_length=10, choices=PipelineStatus.choices, default=PipelineStatus.NOT_APPLICABLE
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    pipeline_error = models.CharField(max_length=500, blank=True)
    # Fit of the account when the deal was won, frozen for reporting and commissions.
    won_fit_score = models.PositiveSmallIntegerField(null=True, blank=True)
    won_fit_tier = models.CharField(max_length=1, blank=True)
    won_fit_version = models.ForeignKey(
        "icp.IcpVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="deal_unique_tenant_external_id"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="deal_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=~models.Q(stage="won") | models.Q(account__isnull=False),
                name="deal_won_needs_account",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "stage", "close_date"], name="deal_tenant_stage_close"),
            models.Index(
                fields=["tenant", "created_at"],
                condition=models.Q(pipeline_status="pending"),
                name="deal_tenant_pending",
            ),
            # The dashboard counts failed deals on each refresh, and there are few.
            models.Index(
                fields=["tenant"],
                condition=models.Q(pipeline_status="failed"),
                name="deal_tenant_failed",
            ),
            models.Index(fields=["tenant", "partner", "stage"], name="deal_tenant_partner_stage"),
            models.Index(fields=["tenant", "id"], name="deal_tenant_id"),
        ]

    def __str__(self) -> str:
        return self.external_id


class ImportRun(TenantOwnedModel):
    """One CSV import: what was sent, what was written and every rejected line."""

    class Kind(models.TextChoices):
        ACCOUNTS = "accounts", "Accounts"
        DEALS = "deals", "Deals"
        REACH = "reach", "Partner reach"
        REVENUE_EVENTS = "revenue_events", "Refund and churn events"
        EXCHANGE_RATES = "exchange_rates", "Exchange rates"

    class Status(models.TextChoices):
        # Stored and waiting for the worker, which moves it to RUNNING.
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Succeeded with rejected lines"
        FAILED = "failed", "Failed, nothing written"
        # A dry run that found nothing wrong; it wrote nothing.
        CHECKED = "checked", "Checked, nothing written"

    FINISHED = (Status.SUCCEEDED, Status.PARTIAL, Status.FAILED, Status.CHECKED)

    kind = models.CharField(max_length=20, choices=Kind.choices)
    filename = models.CharField(max_length=255)
    # Strict imports write nothing when any line is invalid.
    strict = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    rows_total = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    # Rows whose stored values already equal the file's; also counted in rows_updated
    # for kinds that cannot tell (reach, revenue events, exchange rates count 0 here).
    rows_unchanged = models.PositiveIntegerField(default=0)
    # Up to the first few hundred errors: [{"line", "column", "value", "message"}].
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # A dry run checks every line and counts what it would write, but writes nothing:
    # rows_created and rows_updated then count the rows it would create and update.
    dry_run = models.BooleanField(default=False)
    # The name of the saved column mapping (ImportMapping.source) the run used.
    source = models.CharField(max_length=100, blank=True)
    # The declared file format: {"encoding", "delimiter", "locale", "date_order"}.
    file_format = models.JSONField(default=dict, blank=True)
    # Hex SHA-256 of the uploaded bytes, to tell a re-import of the same file.
    sha256 = models.CharField(max_length=64, blank=True)
    # Path of the stored upload under TRACK360_IMPORT_DIR while the worker needs it.
    stored_file = models.CharField(max_length=255, blank=True)
    job = models.ForeignKey(
        "jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="importrun_tenant_created"),
            models.Index(fields=["tenant", "sha256"], name="importrun_tenant_sha256"),
        ]

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED


class ImportMapping(TenantOwnedModel):
    """How to read the files of one source, such as "salesforce-export": saved per kind.

    `mapping` maps a file header to a column name of the kind, or to "" to ignore
    that column. The other fields declare the file format; empty means detect it.
    """

    kind = models.CharField(max_length=20, choices=ImportRun.Kind.choices)
    source = models.CharField(max_length=100)
    mapping = models.JSONField(default=dict, blank=True)
    encoding = models.CharField(max_length=30, blank=True)
    delimiter = models.CharField(max_length=2, blank=True)
    locale = models.CharField(max_length=5, blank=True)
    date_order = models.CharField(max_length=3, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "source"], name="importmapping_unique_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} mapping {self.source}"
