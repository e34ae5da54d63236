"""A tenant whose wins drift away from its active ICP version after activation.

Before activation on ACTIVATED_ON: 20 wins on large software accounts and 10 on
large fintech accounts. Since then: 10 wins on large software accounts (tier A)
and 15 on small healthcare accounts in Germany (tier D, stored as C). So healthcare, Germany
and the 50 to 200 employee band win outside the profile, and fintech, which the
industry criterion rewards, stopped winning: expected 10/30 × 25 ≈ 8.3, got 0.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone

from crm.models import Deal
from icp.models import IcpVersion
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory

ACTIVATED_ON = datetime.date(2024, 1, 1)
CRITERIA = [
    {
        "key": "industry",
        "label": "Industry: software, fintech",
        "field": "industry",
        "kind": "category",
        "values": ["software", "fintech"],
        "weight": 60,
    },
    {
        "key": "employees",
        "label": "Employees 200 or more",
        "field": "employees",
        "kind": "range",
        "min": 200,
        "max": None,
        "weight": 40,
    },
]
CUTOFFS = {"A": 80, "B": 40, "C": 20}
# Learned won deals per tier: 60% of the wins were tier A.
METRICS = {
    "tiers": {
        "A": {"won_deals": 18},
        "B": {"won_deals": 6},
        "C": {"won_deals": 3},
        "D": {"won_deals": 3},
    },
    "tier_basis": "in-sample scores of the training accounts",
}


def active_version(tenant, *, number: int = 1, **values) -> IcpVersion:
    """Create the tenant's active version, activated at noon UTC on ACTIVATED_ON."""
    defaults = {
        "name": "Large software and fintech",
        "status": IcpVersion.Status.ACTIVE,
        "provenance": IcpVersion.Provenance.LEARNED,
        "objective": "won",
        "criteria": CRITERIA,
        "tier_cutoffs": CUTOFFS,
        "metrics": METRICS,
        "activated_at": timezone.make_aware(
            datetime.datetime.combine(ACTIVATED_ON, datetime.time(12)), datetime.UTC
        ),
    }
    with tenant_scope(tenant):
        return IcpVersion.objects.create(tenant=tenant, number=number, **{**defaults, **values})


def won(account, close_date: datetime.date, *, tier: str = "") -> Deal:
    return DealFactory(
        tenant=account.tenant,
        account=account,
        stage=Deal.Stage.WON,
        close_date=close_date,
        amount=Decimal("1000.00"),
        won_fit_tier=tier,
    )


def accounts_with_wins(tenant, count: int, close_date, *, tier: str = "", **fields) -> list:
    """Create `count` accounts with `fields`, each with one deal won on `close_date`."""
    accounts = []
    for _ in range(count):
        account = AccountFactory(tenant=tenant, **fields)
        won(account, close_date, tier=tier)
        accounts.append(account)
    return accounts


def drifting_tenant(tenant, *, since_wins: bool = True) -> SimpleNamespace:
    """Fill `tenant` with the wins described in the module docstring."""
    version = active_version(tenant)
    before = ACTIVATED_ON - datetime.timedelta(days=90)
    after = ACTIVATED_ON + datetime.timedelta(days=30)
    with tenant_scope(tenant):
        software_before = accounts_with_wins(
            tenant, 20, before, industry="software", employees=1500, country="US", tier="A"
        )
        fintech_before = accounts_with_wins(
            tenant, 10, before, industry="fintech", employees=800, country="US", tier="A"
        )
        software_since, healthcare_since = [], []
        if since_wins:
            software_since = accounts_with_wins(
                tenant, 10, after, industry="software", employees=2000, country="US", tier="A"
            )
            healthcare_since = accounts_with_wins(
                tenant, 15, after, industry="Healthcare", employees=80, country="DE", tier="C"
            )
    return SimpleNamespace(
        tenant=tenant,
        version=version,
        software_before=software_before,
        fintech_before=fintech_before,
        software_since=software_since,
        healthcare_since=healthcare_since,
    )
