"""What a partner user sees of an eligibility check, and how often it may run one.

A partner types any domain to check it, so the check must not become a way to
read the tenant's CRM. Partners always see whether the company is eligible, the
conflict, and the fit tier, which shows whether the program wants the company. The
account's name appears only for a company on the partner's own reach list at the
names or details level, the fit score only at details, and the account id never.
Checks and portal registrations are counted together per partner user, so no
partner user can sweep a list of domains.
"""

from __future__ import annotations

import logging

from django.core.cache import cache

from attribution.eligibility import Eligibility
from partners.models import Partner, ReachEntry
from partners.privacy import Visibility, mapping_visibility
from tenancy.models import Tenant

logger = logging.getLogger(__name__)

# Eligibility checks one partner user may run per hour; a person registering
# referrals by hand stays far below it.
CHECKS_PER_HOUR = 120
CHECK_WINDOW_SECONDS = 3600
OVER_LIMIT_MESSAGE = (
    f"You ran more than {CHECKS_PER_HOUR} company checks in the last hour. Try again later, "
    "or ask your partner manager to register a list of companies for you."
)


def eligibility_for_partner(result: Eligibility, *, partner: Partner, tenant: Tenant) -> dict:
    """Return `result` as the partner may see it, by its mapping visibility."""
    data = result.as_dict(reveal_holder=False)
    level = mapping_visibility(partner=partner, tenant=tenant)
    in_reach = (
        result.account is not None
        and ReachEntry.objects.filter(partner_id=partner.pk, domain=result.domain).exists()
    )
    data["account_id"] = None
    if not in_reach or level == Visibility.COUNTS:
        data["account_name"] = ""
    if level != Visibility.DETAILS:
        data["fit_score"] = None
    return data


def score_context(*, partner: Partner, tenant: Tenant) -> dict:
    """Return the serializer context that shows fit scores only at the details level."""
    return {"show_score": mapping_visibility(partner=partner, tenant=tenant) == Visibility.DETAILS}


def check_counter_key(membership_id: int) -> str:
    return f"eligibility-check:{membership_id}"


def check_allowed(*, membership_id: int, partner_id: int) -> bool:
    """Count one check of the partner user and return False once it is over the hourly limit."""
    key = check_counter_key(membership_id)
    cache.add(key, 0, timeout=CHECK_WINDOW_SECONDS)
    count = cache.incr(key)
    if count == CHECKS_PER_HOUR + 1:
        logger.warning(
            "referral.check_rate_limited membership_id=%s partner_id=%s",
            membership_id,
            partner_id,
        )
    return count <= CHECKS_PER_HOUR
