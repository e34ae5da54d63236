"""A partner's overlap with one account of each kind, for the mapping visibility tests.

Northwind's reach list matches five accounts and has one company that matches none:

| account                 | tier | score | deals               | counts as              |
| ----------------------- | ---- | ----- | ------------------- | ---------------------- |
| Alpha Prospect Corp     | A    | 91    | none                | prospect to bring      |
| Beta Customer Corp      | B    | 57    | won, 98765.43       | customer               |
| Gamma Pipeline Corp     | A    | 83    | open, 45678.91      | open pipeline          |
| Delta Offprofile Corp   | C    | 31    | none                | off profile            |
| Epsilon Registered Corp | A    | 88    | none                | registered by Rivalry  |

Offlist Zeta Corp is only on the rival partner's reach list, and the rival has a
ledger entry of its own. None of FORBIDDEN may appear in anything Northwind sees.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from crm.models import Deal
from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.factories import (
    AccountFactory,
    DealFactory,
    MembershipFactory,
    PartnerFactory,
    ReachEntryFactory,
    UserFactory,
    registration_create,
)
from tests.web.data import icp_version_create, ledger_entry_create

ACCOUNT_NAMES = (
    "Alpha Prospect Corp",
    "Beta Customer Corp",
    "Gamma Pipeline Corp",
    "Delta Offprofile Corp",
    "Epsilon Registered Corp",
)
# Strings that no level may show to Northwind: an account off its reach list, deal
# amounts and owners, and the rival partner's name and ledger.
FORBIDDEN = (
    "Offlist Zeta Corp",
    "zeta.example",
    "98765",
    "98,765",
    "45678",
    "45,678",
    "Dana Dealowner",
    "Rivalry Resellers",
    "rival-ledger-memo",
    "4321",
    "4,321",
)
COUNTS = {
    "reach_count": 6,
    "matched_count": 5,
    "on_profile_count": 4,
    "customer_count": 1,
    "open_pipeline_count": 1,
    "prospect_count": 1,
}


def overlap_world_create(tenant) -> SimpleNamespace:
    """Fill `tenant` with Northwind, its partner user, the rival partner and the accounts."""
    with tenant_scope(tenant):
        version = icp_version_create(name="Overlap profile")
        northwind = PartnerFactory(name="Northwind Partners", external_id="northwind")
        rival = PartnerFactory(name="Rivalry Resellers", external_id="rivalry")

        def account(name, domain, tier, score, **values):
            return AccountFactory(
                name=name,
                domain=domain,
                fit_tier=tier,
                fit_score=score,
                fit_version=version,
                **values,
            )

        alpha = account("Alpha Prospect Corp", "alpha.example", "A", 91)
        beta = account("Beta Customer Corp", "beta.example", "B", 57)
        gamma = account("Gamma Pipeline Corp", "gamma.example", "A", 83)
        delta = account(
            "Delta Offprofile Corp", "delta.example", "C", 31, industry="retail", employees=50
        )
        epsilon = account("Epsilon Registered Corp", "epsilon.example", "A", 88)
        registration_create(rival, epsilon.domain, tenant.today())
        zeta = account("Offlist Zeta Corp", "zeta.example", "A", 95)

        DealFactory(
            account=beta, amount=Decimal("98765.43"), owner="Dana Dealowner", external_id="d-beta"
        )
        DealFactory(
            account=gamma,
            stage=Deal.Stage.OPEN,
            amount=Decimal("45678.91"),
            owner="Dana Dealowner",
            external_id="d-gamma",
            close_date=None,
        )

        uploads = {
            alpha: "Alpha from our list",
            beta: "Beta from our list",
            gamma: "Gamma from our list",
            delta: "Delta from our list",
            epsilon: "Epsilon from our list",
        }
        for matched, company in uploads.items():
            ReachEntryFactory(
                partner=northwind, domain=matched.domain, company_name=company, account=matched
            )
        ReachEntryFactory(
            partner=northwind, domain="unmatched-own.example", company_name="Own Unmatched Co"
        )
        ReachEntryFactory(partner=rival, domain=zeta.domain, account=zeta)
        ReachEntryFactory(partner=rival, domain=alpha.domain, account=alpha)
        ledger_entry_create(
            partner=rival,
            memo="rival-ledger-memo",
            idempotency_key="rival-entry",
            base_amount=Decimal("4321.00"),
            amount=Decimal("432.10"),
        )

        user = UserFactory(username="northwind-user")
        MembershipFactory(tenant=tenant, user=user, role=Membership.Role.PARTNER, partner=northwind)
    return SimpleNamespace(
        tenant=tenant,
        version=version,
        northwind=northwind,
        rival=rival,
        user=user,
        alpha=alpha,
        beta=beta,
        gamma=gamma,
        delta=delta,
        epsilon=epsilon,
        zeta=zeta,
    )
