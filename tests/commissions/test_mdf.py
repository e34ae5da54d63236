"""MDF services: budgets, the exact split, allocation, requests, approval, claims."""

from __future__ import annotations

import datetime
import pathlib
import threading
from decimal import Decimal

import pytest
from django.conf import settings as settings_module
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from hypothesis import given, settings
from hypothesis import strategies as st

from commissions.fx import exchange_rates_upsert
from commissions.mdf import (
    mdf_claim_accept,
    mdf_claim_mark_reimbursed,
    mdf_claim_reject,
    mdf_claim_submit,
    mdf_request_approve,
    mdf_request_cancel,
    mdf_request_reject,
    mdf_request_submit,
)
from commissions.mdf_allocation import mdf_allocate, split_exactly
from commissions.mdf_budgets import mdf_budget_set, mdf_period_current, mdf_period_parse
from commissions.mdf_models import MdfAllocation, MdfBudget, MdfClaim, MdfProof, MdfRequest
from commissions.mdf_selectors import mdf_allocation_list
from partners.models import Partner
from tenancy.errors import Conflict, DomainError
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory, PartnerFactory

Q3 = mdf_period_parse("2026-Q3")
PDF = b"%PDF-1.4\n% receipt\n"


def pdf(name="receipt.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def won(partner, amount, tier, *, currency="USD", close_date=datetime.date(2026, 3, 1)):
    return DealFactory(
        tenant=partner.tenant,
        account=AccountFactory(tenant=partner.tenant),
        partner=partner,
        amount=Decimal(amount),
        won_fit_tier=tier,
        currency=currency,
        close_date=close_date,
    )


@pytest.fixture
def partners(scoped):
    alpha = PartnerFactory(tenant=scoped, name="Alpha")
    beta = PartnerFactory(tenant=scoped, name="Beta")
    won(alpha, "30000.00", "A")
    won(beta, "10000.00", "A")
    won(beta, "20000.00", "B")
    return alpha, beta


@pytest.fixture
def allocated(scoped, partners):
    budget, _ = mdf_budget_set(tenant=scoped, period=Q3, amount=Decimal("10000.00"))
    mdf_allocate(budget_id=budget.pk)
    budget.refresh_from_db()
    return budget


def submit(partner, budget, amount, key="k1", **values):
    defaults = {
        "title": "Webinar with Acme",
        "description": "",
        "activity_type": "event",
        "planned_start": datetime.date(2026, 8, 1),
        "planned_end": datetime.date(2026, 8, 2),
    }
    request, _ = mdf_request_submit(
        partner=partner,
        budget=budget,
        idempotency_key=key,
        requested_amount=Decimal(amount),
        **{**defaults, **values},
    )
    return request


# Periods and budgets


def test_period_parse_month_and_quarter():
    month = mdf_period_parse("2026-02")
    quarter = mdf_period_parse("2026-q4")

    assert (month.start, month.end) == (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
    assert (quarter.start, quarter.end) == (datetime.date(2026, 10, 1), datetime.date(2026, 12, 31))
    assert quarter.label == "2026-Q4"


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "26-Q1", "", "2026-1"])
def test_period_parse_rejects(text):
    with pytest.raises(DomainError) as error:
        mdf_period_parse(text)
    assert error.value.field == "period"


def test_current_period_uses_tenant_time_zone(tenant):
    tenant.time_zone = "Pacific/Kiritimati"
    period = mdf_period_current(tenant, "month")

    assert period.start == tenant.today().replace(day=1)


def test_budget_set_is_idempotent(scoped):
    first, created = mdf_budget_set(tenant=scoped, period=Q3, amount=Decimal("500.00"))
    again, created_again = mdf_budget_set(tenant=scoped, period=Q3, amount=Decimal("500.00"))

    assert created is True
    assert created_again is False
    assert again.pk == first.pk
    assert MdfBudget.objects.count() == 1
    assert first.currency == "USD"
    assert AuditEvent.objects.filter(event="mdf.budget_created").count() == 1


def test_budget_update_before_allocation(scoped):
    mdf_budget_set(tenant=scoped, period=Q3, amount=Decimal("500.00"))
    budget, _ = mdf_budget_set(
        tenant=scoped,
        period=Q3,
        amount=Decimal("700.00"),
        lookback_months=6,
        weights={"weight_c": Decimal("0.25")},
    )

    assert budget.amount == Decimal("700.00")
    assert budget.lookback_months == 6
    assert budget.weight_c == Decimal("0.250")
    assert budget.weight_a == Decimal("1.000")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"amount": Decimal("0")}, "amount"),
        ({"amount": Decimal("1.005")}, "amount"),
        ({"amount": Decimal("5"), "lookback_months": 0}, "lookback_months"),
        ({"amount": Decimal("5"), "weights": {"weight_a": Decimal("-1")}}, "weight_a"),
    ],
)
def test_budget_set_rejects_bad_values(scoped, values, field):
    with pytest.raises(DomainError) as error:
        mdf_budget_set(tenant=scoped, period=Q3, **values)
    assert error.value.field == field
    assert MdfBudget.objects.count() == 0


def test_allocated_budget_cannot_change(scoped, allocated):
    with pytest.raises(Conflict, match="is allocated"):
        mdf_budget_set(tenant=scoped, period=Q3, amount=Decimal("9999.00"))
    unchanged, _ = mdf_budget_set(tenant=scoped, period=Q3, amount=Decimal("10000.00"))
    assert unchanged.amount == Decimal("10000.00")


# The exact split


@settings(max_examples=300, deadline=None)
@given(
    total_units=st.integers(min_value=1, max_value=10**12),
    weights=st.lists(
        st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False),
        min_size=1,
        max_size=40,
    ).filter(lambda values: sum(values) > 0),
    exponent=st.sampled_from([0, 2, 3]),
)
def test_split_sums_exactly_and_stays_close(total_units, weights, exponent):
    total = Decimal(total_units).scaleb(-exponent)
    unit = Decimal(1).scaleb(-exponent)
    keyed = dict(enumerate(weights))

    amounts = split_exactly(total, keyed, exponent)

    assert sum(amounts.values()) == total
    weight_sum = sum(weights)
    for key, weight in keyed.items():
        exact = total * weight / weight_sum
        assert abs(amounts[key] - exact) < unit
        assert amounts[key] >= 0
        assert amounts[key] == amounts[key].quantize(unit)
        if weight == 0:
            assert amounts[key] == 0


def test_split_is_proportional_when_even():
    amounts = split_exactly(Decimal("900.00"), {1: Decimal(1), 2: Decimal(2)}, 2)

    assert amounts == {1: Decimal("300.00"), 2: Decimal("600.00")}


def test_split_remainder_goes_by_largest_remainder_then_id():
    # 100 / 3 = 33.333…: rounding gives 99.99, the missing cent goes to key 1 on a tie.
    amounts = split_exactly(Decimal("100.00"), {3: Decimal(1), 1: Decimal(1), 2: Decimal(1)}, 2)

    assert amounts == {1: Decimal("33.34"), 2: Decimal("33.33"), 3: Decimal("33.33")}


def test_split_takes_back_extra_units():
    # Each of 0.015 rounds half up to 0.02, 0.06 in all: two cents must go.
    amounts = split_exactly(Decimal("0.05"), {1: Decimal(1), 2: Decimal(1), 3: Decimal(2)}, 2)

    assert sum(amounts.values()) == Decimal("0.05")
    assert amounts == {1: Decimal("0.01"), 2: Decimal("0.01"), 3: Decimal("0.03")}


# Allocation


def test_allocation_weights_on_profile_results(scoped, partners, allocated):
    alpha, beta = partners
    rows = {row.partner_id: row for row in MdfAllocation.objects.filter(budget=allocated)}

    # Alpha: 30000 × 1; Beta: 10000 × 1 + 20000 × 0.5 = 20000.
    assert rows[alpha.pk].weight == Decimal("30000")
    assert rows[beta.pk].weight == Decimal("20000")
    assert rows[alpha.pk].amount == Decimal("6000.00")
    assert rows[beta.pk].amount == Decimal("4000.00")
    assert rows[beta.pk].revenue_b == Decimal("20000.00")
    assert rows[beta.pk].deal_count == 2
    assert rows[alpha.pk].share == Decimal("0.6")
    assert allocated.status == MdfBudget.Status.ALLOCATED
    assert AuditEvent.objects.filter(event="mdf.allocated").count() == 1


def test_allocation_ignores_deals_outside_window_and_tiers(scoped, partners):
    alpha, beta = partners
    won(alpha, "99999.00", "C")
    won(alpha, "99999.00", "")
    won(beta, "99999.00", "A", close_date=datetime.date(2026, 7, 1))
    won(beta, "99999.00", "A", close_date=datetime.date(2025, 6, 30))
    paused = PartnerFactory(tenant=scoped, status=Partner.Status.PAUSED)
    won(paused, "99999.00", "A")
    budget, _ = mdf_budget_set(tenant=scoped, period=Q3, amount=Decimal("10000.00"))

    mdf_allocate(budget_id=budget.pk)

    amounts = dict(MdfAllocation.objects.values_list("partner_id", "amount"))
    assert amounts == {alpha.pk: Decimal("6000.00"), beta.pk: Decimal("4000.00")}


def test_allocation_leaves_out_deals_without_exchange_rate(scoped, partners):
    alpha, _ = partners
    won(alpha, "50000.00", "A", currency="EUR")
    budget, _ = mdf_budget_set(tenant=scoped, period=Q3, amount=Decimal("10000.00"))

    mdf_allocate(budget_id=budget.pk)

    budget.refresh_from_db()
    assert budget.excluded_deal_count == 1
    assert MdfAllocation.objects.get(partner=alpha).amount == Decimal("6000.00")


def test_allocation_counts_other_currencies_at_their_rate(scoped, partners):
    alpha, beta = partners
    deal = won(alpha, "10000.00", "A", currency="EUR")
    exchange_rates_upsert(
        tenant=scoped, rows=[{"currency": "EUR", "rate_date": "2026-03-01", "rate": "2"}]
    )
    deal.refresh_from_db()
    budget, _ = mdf_budget_set(tenant=scoped, period=Q3, amount=Decimal("10000.00"))

    mdf_allocate(budget_id=budget.pk)

    budget.refresh_from_db()
    # Alpha: 30,000 + 10,000 EUR × 2 = 50,000 of tier A; Beta: 10,000 A + 20,000 B × 0.5.
    assert deal.amount_base == Decimal("20000.00")
    assert budget.excluded_deal_count == 0
    amounts = dict(MdfAllocation.objects.values_list("partner_id", "amount"))
    assert amounts == {alpha.pk: Decimal("7142.86"), beta.pk: Decimal("2857.14")}


def test_allocation_with_no_results_is_rejected(scoped):
    PartnerFactory(tenant=scoped)
    budget, _ = mdf_budget_set(tenant=scoped, period=Q3, amount=Decimal("100.00"))

    with pytest.raises(DomainError) as error:
        mdf_allocate(budget_id=budget.pk)

    assert error.value.field == "lookback_months"
    assert MdfAllocation.objects.count() == 0


def test_reallocation_is_idempotent(scoped, partners, allocated):
    before = list(MdfAllocation.objects.order_by("id").values_list("id", "partner_id", "amount"))

    mdf_allocate(budget_id=allocated.pk)

    after = list(MdfAllocation.objects.order_by("id").values_list("id", "partner_id", "amount"))
    assert after == before


def test_reallocation_refused_after_approval(scoped, partners, allocated):
    alpha, _ = partners
    request = submit(alpha, allocated, "100.00")
    mdf_request_approve(request_id=request.pk)

    with pytest.raises(Conflict, match="cannot be allocated again"):
        mdf_allocate(budget_id=allocated.pk)


# Requests and approval


def test_request_submit_is_idempotent(scoped, partners, allocated):
    alpha, _ = partners
    first = submit(alpha, allocated, "100.00")
    again = submit(alpha, allocated, "100.00")

    assert again.pk == first.pk
    assert MdfRequest.objects.count() == 1
    with pytest.raises(Conflict) as error:
        submit(alpha, allocated, "200.00")
    assert error.value.field == "idempotency_key"


def test_request_over_remaining_is_rejected(scoped, partners, allocated):
    alpha, _ = partners
    with pytest.raises(DomainError) as error:
        submit(alpha, allocated, "6000.01")
    assert error.value.field == "requested_amount"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": " "}, "title"),
        ({"activity_type": "party"}, "activity_type"),
        ({"planned_end": datetime.date(2026, 7, 1)}, "planned_end"),
    ],
)
def test_request_rejects_bad_fields(scoped, partners, allocated, values, field):
    alpha, _ = partners
    with pytest.raises(DomainError) as error:
        submit(alpha, allocated, "10.00", **values)
    assert error.value.field == field


def test_approve_lower_amount_and_remaining(scoped, partners, allocated):
    alpha, _ = partners
    request = submit(alpha, allocated, "1000.00")

    approved = mdf_request_approve(request_id=request.pk, approved_amount=Decimal("800.00"))

    assert approved.status == MdfRequest.Status.APPROVED
    assert approved.committed_amount == Decimal("800.00")
    assert MdfAllocation.objects.get(partner=alpha).remaining == Decimal("5200.00")
    assert AuditEvent.objects.filter(event="mdf.request_approved").count() == 1
    again = mdf_request_approve(request_id=request.pk, approved_amount=Decimal("800.00"))
    assert again.committed_amount == Decimal("800.00")
    assert MdfAllocation.objects.get(partner=alpha).committed == Decimal("800.00")


def test_approve_beyond_remaining_is_refused(scoped, partners, allocated):
    alpha, _ = partners
    first = submit(alpha, allocated, "5000.00", key="a")
    second = submit(alpha, allocated, "2000.00", key="b")
    mdf_request_approve(request_id=first.pk)

    with pytest.raises(Conflict, match="1000.00 USD remains"):
        mdf_request_approve(request_id=second.pk)
    assert MdfRequest.objects.get(pk=second.pk).status == MdfRequest.Status.SUBMITTED


def test_reject_then_approve_is_illegal(scoped, partners, allocated):
    alpha, _ = partners
    request = submit(alpha, allocated, "10.00")
    mdf_request_reject(request_id=request.pk, reason="Off-profile audience")

    with pytest.raises(Conflict) as error:
        mdf_request_approve(request_id=request.pk)
    assert error.value.field == "status"
    with pytest.raises(DomainError):
        mdf_request_reject(request_id=submit(alpha, allocated, "1.00", key="x").pk, reason="")


def test_cancel_releases_funds(scoped, partners, allocated):
    alpha, _ = partners
    request = submit(alpha, allocated, "500.00")
    mdf_request_approve(request_id=request.pk)

    mdf_request_cancel(request_id=request.pk)

    assert MdfAllocation.objects.get(partner=alpha).committed == Decimal("0.00")


@pytest.mark.django_db(transaction=True)
def test_racing_approvals_cannot_overspend(tenant):
    with tenant_scope(tenant):
        alpha = PartnerFactory(tenant=tenant)
        won(alpha, "1000.00", "A")
        budget, _ = mdf_budget_set(tenant=tenant, period=Q3, amount=Decimal("100.00"))
        mdf_allocate(budget_id=budget.pk)
        budget.refresh_from_db()
        first = submit(alpha, budget, "60.00", key="a")
        second = submit(alpha, budget, "60.00", key="b")
    approved, refused, errors = [], [], []
    barrier = threading.Barrier(2)

    def approve(request_id):
        try:
            barrier.wait()
            with tenant_scope(tenant):
                mdf_request_approve(request_id=request_id)
            approved.append(request_id)
        except Conflict:
            refused.append(request_id)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(pk,)) for pk in (first.pk, second.pk)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(approved) == 1
    assert len(refused) == 1
    with tenant_scope(tenant):
        assert MdfAllocation.objects.get().committed == Decimal("60.00")


# Claims and reimbursement


@pytest.fixture
def approved_request(partners, allocated):
    alpha, _ = partners
    request = submit(alpha, allocated, "1000.00")
    return mdf_request_approve(request_id=request.pk)


def test_claim_flow_to_reimbursed(scoped, approved_request):
    claim, created = mdf_claim_submit(
        request_id=approved_request.pk, claimed_amount=Decimal("900.00"), files=[pdf()]
    )
    assert created is True
    assert claim.proofs.get().content_type == "application/pdf"

    mdf_claim_accept(request_id=approved_request.pk, reimbursed_amount=Decimal("850.00"))
    paid = mdf_claim_mark_reimbursed(request_id=approved_request.pk, payment_reference="TR-1")

    assert paid.status == MdfClaim.Status.REIMBURSED
    row = mdf_allocation_list(partner_id=approved_request.partner_id).get()
    assert row.committed == Decimal("850.00")
    assert row.claimed == Decimal("900.00")
    assert row.reimbursed == Decimal("850.00")
    assert row.remaining_amount == Decimal("5150.00")
    events = set(AuditEvent.objects.values_list("event", flat=True))
    assert {"mdf.claim_accepted", "mdf.claim_reimbursed"} <= events


def test_claim_retry_stores_once(scoped, approved_request):
    mdf_claim_submit(request_id=approved_request.pk, claimed_amount=Decimal("10.00"), files=[pdf()])
    claim, created = mdf_claim_submit(
        request_id=approved_request.pk, claimed_amount=Decimal("10.00"), files=[pdf()]
    )

    assert created is False
    assert claim.proofs.count() == 1


def test_claim_more_than_approved_is_rejected(scoped, approved_request):
    with pytest.raises(DomainError) as error:
        mdf_claim_submit(
            request_id=approved_request.pk, claimed_amount=Decimal("1000.01"), files=[pdf()]
        )
    assert error.value.field == "claimed_amount"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("receipt.exe", PDF), "not a PDF, PNG or JPEG"),
        (SimpleUploadedFile("receipt.png", PDF), "content is not image/png"),
        (SimpleUploadedFile("big.pdf", PDF + b"0" * (5 * 1024 * 1024)), "more than the limit"),
    ],
)
def test_claim_rejects_bad_files(scoped, approved_request, upload, message):
    with pytest.raises(DomainError, match=message):
        mdf_claim_submit(
            request_id=approved_request.pk, claimed_amount=Decimal("10.00"), files=[upload]
        )
    assert MdfClaim.objects.count() == 0


def test_claim_needs_a_file(scoped, approved_request):
    with pytest.raises(DomainError) as error:
        mdf_claim_submit(request_id=approved_request.pk, claimed_amount=Decimal("1"), files=[])
    assert error.value.field == "files"


def test_claim_of_submitted_request_is_illegal(scoped, partners, allocated):
    alpha, _ = partners
    request = submit(alpha, allocated, "10.00")
    with pytest.raises(Conflict):
        mdf_claim_submit(request_id=request.pk, claimed_amount=Decimal("10.00"), files=[pdf()])


def test_claim_reject_releases_funds(scoped, approved_request):
    mdf_claim_submit(request_id=approved_request.pk, claimed_amount=Decimal("10.00"), files=[pdf()])

    mdf_claim_reject(request_id=approved_request.pk, reason="The receipt is unreadable")

    assert MdfAllocation.objects.get(pk=approved_request.allocation_id).committed == 0
    with pytest.raises(Conflict):
        mdf_claim_mark_reimbursed(request_id=approved_request.pk, payment_reference="TR-2")


def test_accept_more_than_claimed_is_rejected(scoped, approved_request):
    mdf_claim_submit(request_id=approved_request.pk, claimed_amount=Decimal("10.00"), files=[pdf()])
    with pytest.raises(DomainError) as error:
        mdf_claim_accept(request_id=approved_request.pk, reimbursed_amount=Decimal("10.01"))
    assert error.value.field == "reimbursed_amount"


def test_reimburse_before_accept_is_illegal(scoped, approved_request):
    mdf_claim_submit(request_id=approved_request.pk, claimed_amount=Decimal("10.00"), files=[pdf()])
    with pytest.raises(Conflict):
        mdf_claim_mark_reimbursed(request_id=approved_request.pk, payment_reference="TR-3")


@pytest.mark.django_db(transaction=True)
def test_racing_claims_store_one_claim_and_file(tenant):
    with tenant_scope(tenant):
        alpha = PartnerFactory(tenant=tenant)
        won(alpha, "1000.00", "A")
        budget, _ = mdf_budget_set(tenant=tenant, period=Q3, amount=Decimal("100.00"))
        mdf_allocate(budget_id=budget.pk)
        budget.refresh_from_db()
        request = mdf_request_approve(request_id=submit(alpha, budget, "50.00").pk)
    folder = pathlib.Path(settings_module.MEDIA_ROOT) / "mdf-proofs" / str(tenant.pk)
    before = set(folder.glob("*")) if folder.exists() else set()
    errors = []
    barrier = threading.Barrier(2)

    def claim():
        try:
            barrier.wait()
            with tenant_scope(tenant):
                mdf_claim_submit(
                    request_id=request.pk, claimed_amount=Decimal("50.00"), files=[pdf()]
                )
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with tenant_scope(tenant):
        assert MdfClaim.objects.count() == 1
        assert MdfProof.objects.count() == 1
    assert len(set(folder.glob("*")) - before) == 1


def test_failed_claim_leaves_no_files(scoped, approved_request, monkeypatch):
    folder = pathlib.Path(settings_module.MEDIA_ROOT) / "mdf-proofs" / str(scoped.pk)
    before = set(folder.glob("*")) if folder.exists() else set()
    original_save = MdfProof.save
    saved = []

    def save_then_fail_second(proof, *args, **kwargs):
        original_save(proof, *args, **kwargs)
        saved.append(proof.file.name)
        if len(saved) == 2:
            raise DatabaseError("the second proof row was not written")

    monkeypatch.setattr(MdfProof, "save", save_then_fail_second)

    with pytest.raises(DatabaseError):
        mdf_claim_submit(
            request_id=approved_request.pk,
            claimed_amount=Decimal("10.00"),
            files=[pdf("one.pdf"), pdf("two.pdf")],
        )

    assert len(saved) == 2
    assert set(folder.glob("*")) - before == set()
    assert MdfClaim.objects.count() == 0
