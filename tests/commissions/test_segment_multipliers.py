"""Per-segment multipliers of commission plans: accruals, the ledger record and validation."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from commissions.models import CommissionPlan, LedgerEntry
from commissions.plans import commission_plan_activate
from commissions.services import accruals_write
from crm.services import deal_upsert
from partners.models import PartnerScore
from tenancy.errors import DomainError
from tests.factories import (
    AccountFactory,
    CommissionPlanFactory,
    DealFactory,
    PartnerFactory,
    registration_create,
)
from tests.pipeline.conftest import make_active_version


def segmented(partner, segment: str) -> PartnerScore:
    return PartnerScore.objects.create(
        tenant_id=partner.tenant_id,
        partner=partner,
        segment=segment,
        segment_basis=PartnerScore.SegmentBasis.OVERLAP_ONLY,
    )


def deal_row(deal, *, tier="A", score=100) -> dict:
    return {
        "id": deal.pk,
        "partner_id": deal.partner_id,
        "amount": deal.amount,
        "currency": deal.currency,
        "won_fit_tier": tier,
        "won_fit_score": score,
        "won_fit_version_id": None,
    }


@pytest.fixture
def plan(scoped):
    return CommissionPlanFactory(
        tenant=scoped,
        base_rate=Decimal("0.1000"),
        segment_multiplier_strategic=Decimal("1.20"),
        segment_multiplier_deprioritise=Decimal("0.50"),
    )


def accrue(plan, partner, amount="1000.00", **row) -> LedgerEntry:
    deal = DealFactory(
        tenant=plan.tenant, partner=partner, account=AccountFactory(tenant=plan.tenant),
        amount=Decimal(amount),
    )  # fmt: skip
    accruals_write(plan=plan, deals=[deal_row(deal, **row)])
    return LedgerEntry.objects.get(deal=deal)


@pytest.mark.parametrize(
    ("segment", "amount", "expected", "segment_multiplier"),
    [
        # 1,000 × 10 % × 1.50 (tier A) × 1.20 (strategic)
        pytest.param("strategic", "1000.00", "180.00", "1.20", id="strategic"),
        pytest.param("deprioritise", "1000.00", "75.00", "0.50", id="deprioritise"),
        pytest.param("grow", "1000.00", "150.00", "1.00", id="default-one"),
        # 1,000.05 × 0.1 × 1.5 × 1.2 = 180.009, rounded half up to cents.
        pytest.param("strategic", "1000.05", "180.01", "1.20", id="rounded-half-up"),
    ],
)
def test_accrual_applies_segment_multiplier(scoped, plan, segment, amount, expected,
                                            segment_multiplier):  # fmt: skip
    partner = PartnerFactory(tenant=scoped)
    segmented(partner, segment)

    entry = accrue(plan, partner, amount)

    assert entry.amount == Decimal(expected)
    assert entry.multiplier == Decimal("1.50")
    assert entry.partner_segment == segment
    assert entry.segment_multiplier == Decimal(segment_multiplier)
    assert f"× {segment_multiplier} for the {segment} segment" in entry.memo


def test_accrual_without_segment_uses_one(scoped, plan):
    partner = PartnerFactory(tenant=scoped)

    entry = accrue(plan, partner)

    assert entry.amount == Decimal("150.00")
    assert (entry.partner_segment, entry.segment_multiplier) == ("", Decimal("1.00"))
    assert "× 1.00: the partner has no segment" in entry.memo


def test_default_plan_books_as_before(scoped):
    plan = CommissionPlanFactory(tenant=scoped, base_rate=Decimal("0.1000"))
    partner = PartnerFactory(tenant=scoped)
    segmented(partner, "strategic")

    entry = accrue(plan, partner)

    assert entry.amount == Decimal("150.00")
    assert entry.segment_multiplier == Decimal("1.00")


def test_ledger_keeps_segment_append_only(scoped, plan):
    partner = PartnerFactory(tenant=scoped)
    segmented(partner, "strategic")
    entry = accrue(plan, partner)

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(partner_segment="grow")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(segment_multiplier=Decimal("2.00"))
    LedgerEntry.objects.filter(pk=entry.pk).update(status=LedgerEntry.Status.APPROVED)

    entry.refresh_from_db()
    assert (entry.partner_segment, entry.status) == ("strategic", LedgerEntry.Status.APPROVED)


def test_pipeline_books_segment(scoped, django_capture_on_commit_callbacks):
    make_active_version(scoped)
    CommissionPlanFactory(
        tenant=scoped, base_rate=Decimal("0.1000"), segment_multiplier_grow=Decimal("2.00")
    )
    partner = PartnerFactory(tenant=scoped)
    segmented(partner, "grow")
    account = AccountFactory(
        tenant=scoped, external_id="a1", industry="software", employees=5000
    )  # fmt: skip
    registration_create(partner, account.domain, datetime.date(2017, 1, 1))

    with django_capture_on_commit_callbacks(execute=True):
        deal_upsert(
            tenant=scoped, external_id="D1", stage="won", amount=Decimal("1000.00"),
            close_date=datetime.date(2017, 6, 1), account_external_id="a1",
        )  # fmt: skip

    entry = LedgerEntry.objects.get()
    assert entry.amount == Decimal("300.00")
    assert (entry.partner_segment, entry.segment_multiplier) == ("grow", Decimal("2.00"))


@pytest.mark.parametrize("value", ["5.01", "-0.01"])
def test_plan_rejects_segment_multiplier_out_of_range(scoped, value):
    with pytest.raises(DomainError) as error:
        commission_plan_activate(
            tenant=scoped, name="Plan", base_rate=Decimal("0.1"),
            segment_multiplier_grow=Decimal(value),
        )  # fmt: skip

    assert error.value.field == "segment_multiplier_grow"
    assert error.value.value == Decimal(value)
    assert "between 0 and 5" in error.value.fix
    assert not CommissionPlan.objects.exists()


def test_plan_keeps_segment_multipliers_left_out(scoped):
    commission_plan_activate(
        tenant=scoped, name="Plan", base_rate=Decimal("0.1"),
        segment_multiplier_nurture=Decimal("0.80"),
    )  # fmt: skip

    plan = commission_plan_activate(tenant=scoped, name="Plan", base_rate=Decimal("0.2"))

    assert plan.segment_multiplier_nurture == Decimal("0.80")
    assert plan.segment_multiplier_strategic == Decimal("1.00")
