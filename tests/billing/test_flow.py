"""A paid Stripe invoice becomes a partner commission, and its refund a reversal."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from billing.models import BillingEvent
from commissions.models import LedgerEntry, RevenueEvent
from crm.models import Deal
from icp.models import IcpVersion
from tenancy.scope import tenant_scope
from tests.api.conftest import ICP_CRITERIA, ICP_CUTOFFS
from tests.billing.conftest import deliver, payload
from tests.factories import (
    AccountFactory,
    CommissionPlanFactory,
    PartnerFactory,
    registration_create,
)


@pytest.fixture
def referred_program(scoped):
    """A tier A account that a partner registered, a 10 % plan and an active ICP."""
    IcpVersion.objects.create(
        tenant=scoped,
        number=1,
        name="Mid-market software",
        status=IcpVersion.Status.ACTIVE,
        provenance=IcpVersion.Provenance.MANUAL,
        criteria=ICP_CRITERIA,
        tier_cutoffs=ICP_CUTOFFS,
    )
    partner = PartnerFactory(tenant=scoped, external_id="p-north")
    account = AccountFactory(
        tenant=scoped, external_id="acc-acme", domain="acme.com", industry="software",
        employees=500,
    )  # fmt: skip
    registration_create(partner, "acme.com", datetime.date(2024, 1, 15))
    CommissionPlanFactory(tenant=scoped, base_rate=Decimal("0.1000"))
    return partner, account


def test_invoice_to_accrual_then_refund_to_reversal(
    client, connection, referred_program, django_capture_on_commit_callbacks
):
    partner, account = referred_program

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, connection, payload("invoice_paid_subscription_create"))

    deal = Deal.objects.get()
    assert deal.pipeline_status == Deal.PipelineStatus.PROCESSED
    assert deal.partner == partner
    accrual = LedgerEntry.objects.get(kind=LedgerEntry.Kind.ACCRUAL)
    # 20,000.00 × rate 0.1000 × tier A multiplier 1.50
    assert accrual.amount == Decimal("3000.00")
    assert accrual.deal == deal

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, connection, payload("refund_created"))

    refund = RevenueEvent.objects.get()
    assert refund.processed_at is not None
    reversal = LedgerEntry.objects.get(kind=LedgerEntry.Kind.REVERSAL)
    # 5,000.00 of 20,000.00 refunded takes back a quarter of 3,000.00.
    assert reversal.amount == Decimal("-750.00")
    assert reversal.reverses == accrual

    # charge.refunded lists that refund again and one more of 2,500.00.
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, connection, payload("charge_refunded"))

    amounts = sorted(
        LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REVERSAL).values_list("amount", flat=True)
    )
    assert amounts == [Decimal("-750.00"), Decimal("-375.00")]
    with tenant_scope(connection.tenant):
        statuses = set(BillingEvent.objects.values_list("status", flat=True))
    assert statuses == {BillingEvent.Status.PROCESSED}


def test_renewal_invoice_pays_the_original_partner(
    client, connection, referred_program, django_capture_on_commit_callbacks
):
    partner, _ = referred_program
    renewal = payload("invoice_paid_subscription_create")
    renewal["id"] = "evt_renewal"
    renewal["created"] += 86400 * 30
    renewal["data"]["object"].update(
        id="in_renewal",
        billing_reason="subscription_cycle",
        status_transitions={"paid_at": renewal["created"]},
    )

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, connection, payload("invoice_paid_subscription_create"))
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, connection, renewal)

    deal = Deal.objects.get(external_id="stripe:in_renewal")
    assert deal.kind == "renewal"
    assert deal.partner == partner
    assert LedgerEntry.objects.filter(deal=deal, kind=LedgerEntry.Kind.ACCRUAL).count() == 1
