"""Hand-built data for the partner score tests: an active ICP, accounts by fit, deals."""

from __future__ import annotations

import datetime
from decimal import Decimal

from crm.models import Deal
from icp.models import IcpVersion
from partners.models import ReachEntry
from tests.factories import AccountFactory, DealFactory, PartnerFactory

# Software companies with 1,000 employees or more are tier A (100), either one alone
# tier B (50), and neither tier D (0).
CRITERIA = [
    {"key": "size", "label": "1,000+ employees", "field": "employees", "kind": "range",
     "min": 1000, "max": None, "weight": 50},
    {"key": "industry", "label": "Software", "field": "industry", "kind": "category",
     "values": ["software"], "weight": 50},
]  # fmt: skip
CUTOFFS = {"A": 75, "B": 50, "C": 25}


def active_version(tenant, *, criteria=CRITERIA, number: int = 1) -> IcpVersion:
    return IcpVersion.all_tenants.create(
        tenant=tenant,
        number=number,
        name=f"Profile {number}",
        status=IcpVersion.Status.ACTIVE,
        provenance=IcpVersion.Provenance.MANUAL,
        criteria=criteria,
        tier_cutoffs=CUTOFFS,
    )


def account(tenant, domain: str, score: int | None, tier: str, **values):
    """Create an account with a stored fit, as a rescore would have left it."""
    return AccountFactory(tenant=tenant, domain=domain, fit_score=score, fit_tier=tier, **values)


def deal(tenant, account, stage=Deal.Stage.WON, amount="1000.00", **values):
    return DealFactory(
        tenant=tenant, account=account, stage=stage, amount=Decimal(amount), **values
    )


def reach(partner, *domains: str, **firmographics_by_domain) -> None:
    """Put `domains` on the partner's reach list, each with its firmographics if given."""
    for domain in domains:
        ReachEntry.objects.create(
            tenant_id=partner.tenant_id,
            partner=partner,
            domain=domain,
            **firmographics_by_domain.get(domain.replace(".", "_").replace("-", "_"), {}),
        )


def overlap_world(tenant):
    """Accounts covering every overlap part, and a partner whose reach contains all of them.

    Matched: an open target A (100), an open target B (50) with two open deals of
    2,000.00 and 500.00, a customer A (100) with an open deal of 300.00, a churned
    customer B (50), an off-profile D (0) and an unscored account. Unmatched: an A
    and a B scored on their own firmographics, a D, and one without firmographics.
    """
    accounts = {
        "target_a": account(tenant, "target-a.com", 100, "A"),
        "target_b": account(tenant, "target-b.com", 50, "B"),
        "customer": account(tenant, "customer.com", 100, "A"),
        "churned": account(tenant, "churned.com", 50, "B", churned_on=datetime.date(2017, 9, 1)),
        "off": account(tenant, "off.com", 0, "D"),
        "unscored": account(tenant, "unscored.com", None, ""),
    }
    deal(tenant, accounts["target_b"], Deal.Stage.OPEN, "2000.00", close_date=None)
    deal(tenant, accounts["target_b"], Deal.Stage.OPEN, "500.00", close_date=None)
    deal(tenant, accounts["customer"], Deal.Stage.WON, "4000.00")
    deal(tenant, accounts["customer"], Deal.Stage.OPEN, "300.00", close_date=None)
    deal(tenant, accounts["churned"], Deal.Stage.WON, "900.00")
    partner = PartnerFactory(tenant=tenant, name="Everything")
    reach(
        partner,
        *(account.domain for account in accounts.values()),
        "new-a.com",
        "new-b.com",
        "new-d.com",
        "bare.com",
        new_a_com={"industry": "Software", "employees": 5000},
        new_b_com={"employees": 2000, "country": "DE"},
        new_d_com={"industry": "retail", "employees": 10},
    )
    return partner, accounts
