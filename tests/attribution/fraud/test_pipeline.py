"""Accruals the won-deal pipeline writes for a held scope are written held."""

from __future__ import annotations

import pytest

from attribution.fraud.review import fraud_signal_dismiss
from attribution.fraud.scan import fraud_scan
from attribution.models import FraudSignal
from commissions.models import LedgerEntry
from crm.models import Deal
from crm.pipeline import deals_process
from tests.factories import (
    AccountFactory,
    CommissionPlanFactory,
    DealFactory,
    FraudSignalFactory,
    PartnerFactory,
    ReferralFactory,
)
from tests.pipeline.conftest import make_active_version

Status = LedgerEntry.Status


@pytest.fixture
def program(partner, scoped):
    """An active ICP and plan, and two accounts: `partner`'s own company and a customer."""
    make_active_version(scoped)
    CommissionPlanFactory()
    own = AccountFactory(domain="northwind.com", industry="software", employees=5000)
    customer = AccountFactory(domain="fabrikam.com", industry="software", employees=5000)
    ReferralFactory(partner=partner, domain="northwind.com", account=own)
    return {"partner": partner, "own": own, "customer": customer}


def won_deal(account, partner) -> Deal:
    return DealFactory(
        account=account,
        partner=partner,
        partner_named=True,
        pipeline_status=Deal.PipelineStatus.PENDING,
    )


def accrual_status(deal: Deal) -> str:
    return LedgerEntry.objects.get(deal=deal).status


def test_accrual_on_held_account_is_held(program, scoped):
    fraud_scan(tenant=scoped)
    assert FraudSignal.objects.get().kind == FraudSignal.Kind.SELF_REFERRAL
    own_deal = won_deal(program["own"], program["partner"])
    customer_deal = won_deal(program["customer"], program["partner"])

    processed = deals_process(tenant_id=scoped.pk)

    assert processed == 2
    assert accrual_status(own_deal) == Status.HELD
    assert accrual_status(customer_deal) == Status.PENDING


def test_accrual_of_held_partner_is_held(program, scoped):
    FraudSignalFactory(partner=program["partner"], kind=FraudSignal.Kind.OFF_PROFILE_BURST)
    deal = won_deal(program["customer"], program["partner"])

    deals_process(tenant_id=scoped.pk)

    assert accrual_status(deal) == Status.HELD


def test_accrual_after_dismissal_is_pending(program, scoped, admin_user):
    fraud_scan(tenant=scoped)
    fraud_signal_dismiss(signal=FraudSignal.objects.get(), actor=admin_user)
    deal = won_deal(program["own"], program["partner"])

    deals_process(tenant_id=scoped.pk)

    assert accrual_status(deal) == Status.PENDING


def test_accrual_of_other_partner_is_pending(program, scoped):
    fraud_scan(tenant=scoped)
    other = PartnerFactory(name="Unrelated partner")
    deal = won_deal(program["own"], other)

    deals_process(tenant_id=scoped.pk)

    assert accrual_status(deal) == Status.PENDING
