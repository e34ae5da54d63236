"""Builders of won customers and ledger entries for the unit economics tests."""

import datetime
from decimal import Decimal

from commissions.models import LedgerEntry
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory, PartnerFactory

CLOSED = datetime.date(2024, 1, 1)


def customer(tenant, tier, amount, *, churned_after_days=None, partner=None):
    """Create an account with one won deal of `tier` closed on CLOSED, churned N days later."""
    churned_on = None
    if churned_after_days is not None:
        churned_on = CLOSED + datetime.timedelta(days=churned_after_days)
    account = AccountFactory(tenant=tenant, churned_on=churned_on)
    deal = DealFactory(
        tenant=tenant,
        account=account,
        amount=Decimal(amount),
        close_date=CLOSED,
        won_fit_tier=tier,
        partner=partner,
    )
    return account, deal


def ledger_entry(partner, deal, key, amount, *, kind="accrual", status="pending"):
    return LedgerEntry.objects.create(
        tenant_id=partner.tenant_id,
        partner=partner,
        deal=deal,
        idempotency_key=key,
        kind=kind,
        status=status,
        base_amount=deal.amount,
        rate=Decimal("0.1000"),
        multiplier=Decimal("1.00"),
        fit_tier=deal.won_fit_tier,
        fit_score=80,
        amount=Decimal(amount),
        currency="USD",
    )


def two_tenants_build(tenant, other_tenant):
    """Create a partner over the share limit in `tenant` and a large one in `other_tenant`."""
    with tenant_scope(tenant):
        ours = PartnerFactory(tenant=tenant, name="Acme Reseller")
        _, deal = customer(tenant, "A", "1000.00", partner=ours)
        for _ in range(4):
            customer(tenant, "A", "1000.00")
        ledger_entry(ours, deal, "ours-1", "2000.00")
    with tenant_scope(other_tenant):
        theirs = PartnerFactory(tenant=other_tenant, name="Globex Secret Partner")
        _, other_deal = customer(other_tenant, "B", "99999.00", partner=theirs)
        ledger_entry(theirs, other_deal, "theirs-1", "77777.00")
    return ours, theirs
