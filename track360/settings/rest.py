"""Django REST framework and OpenAPI settings."""

import re

from django.core.exceptions import ImproperlyConfigured

from track360.settings.env import env_str


def _env_rate(name: str, default: str) -> str:
    """Return a request rate such as "600/min" from the environment, or raise."""
    rate = env_str(name, default).strip()
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", rate):
        raise ImproperlyConfigured(
            f"Environment variable {name}={rate!r} is not a rate: set it to requests per "
            "period, such as '600/min', '20/s' or '10000/hour'."
        )
    return rate


# Requests per API key, unless the key has its own rate.
TRACK360_API_RATE = _env_rate("TRACK360_API_RATE", "600/min")
# Requests per logged-in user of the dashboard and the portal.
TRACK360_SESSION_API_RATE = _env_rate("TRACK360_SESSION_API_RATE", "3000/min")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenancy.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tenancy.api.permissions.IsTenantMember"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tenancy.api.errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "tenancy.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Track360 API",
    "DESCRIPTION": (
        "Accounts, deals, partners and the commission ledger of one tenant. "
        "Authenticate with `Authorization: Api-Key <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Partners and ledger entries both have `kind` and `status` fields.
    "ENUM_NAME_OVERRIDES": {
        "PartnerKindEnum": "partners.models.Partner.Kind",
        "PartnerStatusEnum": "partners.models.Partner.Status",
        "PartnerTierEnum": "partners.models.Partner.Tier",
        "MappingVisibilityEnum": "tenancy.models.Tenant.MappingVisibility",
        "LedgerKindEnum": "commissions.models.LedgerEntry.Kind",
        "LedgerStatusEnum": "commissions.models.LedgerEntry.Status",
        "PayoutStatusEnum": "commissions.models.Payout.Status",
        "RevenueEventKindEnum": "commissions.models.RevenueEvent.Kind",
        "DealKindEnum": "crm.models.Deal.Kind",
        "BulkModeEnum": "crm.bulk.MODES",
        "RuleScopeEnum": "commissions.models.CommissionRule.Scope",
        "PayoutTypeEnum": "commissions.models.PayoutType",
        "CapPeriodEnum": "commissions.models.CapPeriod",
        "CriterionKindEnum": "icp.scoring.KIND_LABELS",
        "JobStatusEnum": "jobs.models.Job.Status",
        "WebhookDeliveryStatusEnum": "webhooks.models.WebhookDelivery.Status",
        "WebhookEventTypeEnum": "webhooks.models.EventType",
        "JobKindEnum": "jobs.models.Job.Kind",
        "ImportKindEnum": "crm.models.ImportRun.Kind",
        "ImportStatusEnum": "crm.models.ImportRun.Status",
        # Choice sets of the ICP version diff.
        "IcpTierEnum": "icp.diff.ALL_TIERS",
        "IcpCutoffTierEnum": "icp.scoring.TIERS",
        "IcpCriterionChangeEnum": "icp.diff.CRITERION_STATUSES",
        "IcpCriterionPartEnum": "icp.diff.COMPARED_PARTS",
        # Partner segments and the parts of the overlap score.
        "PartnerSegmentEnum": "partners.models.PartnerScore.Segment",
        "OverlapPartKeyEnum": "partners.overlap.PART_KEYS",
        # Registrations and the eligibility check.
        "ReferralStatusEnum": "attribution.models.Referral.Status",
        "ReferralConflictEnum": "attribution.models.Referral.Conflict",
        "ReferralSourceEnum": "attribution.models.Referral.Source",
        "EligibilityStatusEnum": "attribution.eligibility.ELIGIBILITY_STATUSES",
        # Market development funds.
        "MdfBudgetStatusEnum": "commissions.mdf_models.MdfBudget.Status",
        "MdfRequestStatusEnum": "commissions.mdf_models.MdfRequest.Status",
        "MdfClaimStatusEnum": "commissions.mdf_models.MdfClaim.Status",
        "ApiKeyStatusEnum": "tenancy.models.ApiKey.STATUSES",
    },
    # Swagger UI is served from this app's static files, not from a CDN, so the docs
    # work on a self-hosted machine without outside network access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
