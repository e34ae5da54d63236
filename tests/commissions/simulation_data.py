"""Test data for plan simulations: won deals in the window and draft plans."""

from __future__ import annotations

import datetime
from decimal import Decimal

from commissions.models import CommissionPlan
from commissions.services import accruals_write
from crm.models import Deal
from tests.factories import AccountFactory, CommissionPlanFactory, DealFactory


def draft(tenant, **values) -> CommissionPlan:
    defaults = {"name": "Draft", "base_rate": Decimal("0.1000"), "is_draft": True}
    return CommissionPlanFactory(tenant=tenant, is_active=False, **{**defaults, **values})


def won(partner, *, amount="1000.00", tier="A", score=90, days_ago=10, book=None, **values):
    """Create a won deal of `partner`, booked under `book` when given."""
    deal = DealFactory(
        tenant=partner.tenant,
        partner=partner,
        account=values.pop("account", None) or AccountFactory(tenant=partner.tenant),
        amount=Decimal(amount),
        close_date=partner.tenant.today() - datetime.timedelta(days=days_ago),
        won_fit_tier=tier,
        won_fit_score=score,
        **{"pipeline_status": Deal.PipelineStatus.PROCESSED, **values},
    )
    if book is not None:
        accruals_write(
            plan=book,
            deals=[
                {
                    "id": deal.pk,
                    "partner_id": partner.pk,
                    "amount": deal.amount,
                    "currency": deal.currency,
                    "won_fit_tier": tier,
                    "won_fit_score": score,
                    "won_fit_version_id": None,
                }
            ],
        )
    return deal
