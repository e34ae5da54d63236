"""Fixtures for the won-deal pipeline: an active ICP, a plan and a referred account."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from icp.models import IcpVersion
from tests.factories import (
    AccountFactory,
    CommissionPlanFactory,
    PartnerFactory,
    registration_create,
)

# Accounts with 1,000 employees or more and in software are tier A; either one is B.
CRITERIA = [
    {"key": "size", "label": "1,000+ employees", "field": "employees", "kind": "range",
     "min": 1000, "max": None, "weight": 50},
    {"key": "industry", "label": "Software", "field": "industry", "kind": "category",
     "values": ["software"], "weight": 50},
]  # fmt: skip
CUTOFFS = {"A": 75, "B": 50, "C": 25}


def make_active_version(tenant) -> IcpVersion:
    return IcpVersion.all_tenants.create(
        tenant=tenant,
        number=1,
        name="Test profile",
        status=IcpVersion.Status.ACTIVE,
        provenance=IcpVersion.Provenance.MANUAL,
        criteria=CRITERIA,
        tier_cutoffs=CUTOFFS,
    )


@pytest.fixture
def program(scoped):
    """An active ICP, a 10 % plan, a partner and an account it registered on 2017-01-01."""
    version = make_active_version(scoped)
    plan = CommissionPlanFactory(tenant=scoped, base_rate=Decimal("0.1000"))
    partner = PartnerFactory(tenant=scoped, external_id="p1", name="Referrer")
    account = AccountFactory(
        tenant=scoped, external_id="a1", domain="acme.com", industry="software", employees=5000
    )
    referral = registration_create(partner, "acme.com", datetime.date(2017, 1, 1))
    account.refresh_from_db()
    return {
        "version": version,
        "plan": plan,
        "partner": partner,
        "account": account,
        "referral": referral,
    }
