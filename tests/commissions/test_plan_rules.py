"""Plans in the pipeline: rules, effective dates, renewals, caps and currency conversion."""

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from commissions.caps import PartnerCaps
from commissions.fx import exchange_rates_upsert
from commissions.models import CommissionPlan, LedgerEntry
from commissions.plans import (
    commission_plan_activate,
    commission_plan_copy,
    commission_plan_draft_delete,
    commission_plan_draft_save,
)
from commissions.reversals import revenue_event_process, revenue_event_record
from commissions.services import accruals_write
from crm.models import Deal
from crm.pipeline import deals_process
from tenancy.errors import Conflict, DomainError
from tenancy.models import AuditEvent
from tenancy.scope import tenant_scope
from tests.factories import AccountFactory, DealFactory, PartnerFactory, registration_create
from tests.pipeline.conftest import make_active_version


@pytest.fixture
def book(scoped):
    """An active ICP, a partner and a tier A account it registered on 2017-01-01."""
    make_active_version(scoped)
    partner = PartnerFactory(tenant=scoped, external_id="p1", name="Referrer", tier="gold")
    account = AccountFactory(
        tenant=scoped, external_id="a1", domain="acme.com", industry="software", employees=5000
    )
    registration_create(partner, "acme.com", datetime.date(2017, 1, 1))
    return {"tenant": scoped, "partner": partner, "account": account}


def won(book, external_id, *, close, amount="1000.00", kind="new", product="", currency="USD"):
    return DealFactory(
        tenant=book["tenant"],
        external_id=external_id,
        account=book["account"],
        amount=Decimal(amount),
        currency=currency,
        close_date=close,
        kind=kind,
        product=product,
        pipeline_status=Deal.PipelineStatus.PENDING,
    )


def booked(deal) -> LedgerEntry:
    deals_process(tenant_id=deal.tenant_id, deal_ids=[deal.pk])
    return LedgerEntry.objects.get(deal=deal, kind=LedgerEntry.Kind.ACCRUAL)


def activate(tenant, name, rate="0.1000", **values):
    return commission_plan_activate(tenant=tenant, name=name, base_rate=Decimal(rate), **values)


# Rules and rate source


def test_rule_sets_rate_source(book):
    activate(
        book["tenant"],
        "Rules",
        rules=[
            {"scope": "program", "rate": Decimal("0.05")},
            {"scope": "partner_tier", "value": "gold", "rate": Decimal("0.08")},
            {"scope": "product", "value": "Enterprise", "rate": Decimal("0.12")},
        ],
    )

    entry = booked(won(book, "D1", close=datetime.date(2017, 3, 1), product="enterprise"))

    # The partner tier rule outranks the product rule: 1,000 × 8 % × 1.50 for tier A.
    assert (entry.rate_source, entry.rate, entry.amount) == (
        "partner_tier",
        Decimal("0.0800"),
        Decimal("120.00"),
    )
    assert entry.rate_source_detail == "Partner tier rule gold: 8.00 % of the deal amount"
    assert entry.deal_kind == "new"


def test_partner_override_outranks_every_other_rule(book):
    activate(
        book["tenant"],
        "Rules",
        rules=[
            {"scope": "partner", "partner_id": book["partner"].pk, "rate": Decimal("0.15")},
            {"scope": "partner_tier", "value": "gold", "rate": Decimal("0.08")},
        ],
    )

    entry = booked(won(book, "D1", close=datetime.date(2017, 3, 1)))

    assert (entry.rate_source, entry.amount) == ("partner", Decimal("225.00"))
    assert "Partner override for Referrer" in entry.rate_source_detail


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"scope": "galaxy", "rate": Decimal("0.1")}, "rules[0].scope"),
        ({"scope": "segment", "value": "platinum", "rate": Decimal("0.1")}, "rules[0].value"),
        ({"scope": "product", "rate": Decimal("0.1")}, "rules[0].value"),
        ({"scope": "program", "value": "x", "rate": Decimal("0.1")}, "rules[0].value"),
        ({"scope": "partner", "partner_id": 999999, "rate": Decimal("0.1")}, "rules[0].partner_id"),
        ({"scope": "program", "rate": Decimal("1.5")}, "rules[0].rate"),
        ({"scope": "program", "payout_type": "flat"}, "rules[0].flat_amount"),
        ({"scope": "program", "deal_kind": "upsell", "rate": Decimal("0.1")}, "rules[0].deal_kind"),
    ],
)
def test_invalid_rule_rejected_unchanged(book, rule, field):
    activate(book["tenant"], "Stable", rules=[{"scope": "program", "rate": Decimal("0.05")}])

    with pytest.raises(DomainError) as error:
        activate(book["tenant"], "Stable", rules=[rule])

    assert error.value.field == field
    assert error.value.fix
    plan = CommissionPlan.objects.get(name="Stable")
    assert [rule.rate for rule in plan.rules.all()] == [Decimal("0.0500")]


def test_two_rules_matching_the_same_deals_are_rejected(book):
    rules = [{"scope": "program", "rate": Decimal("0.05")}] * 2

    with pytest.raises(DomainError, match="Rules 0 and 1 match the same deals"):
        activate(book["tenant"], "Twice", rules=rules)


def test_minimum_fit_books_zero_entry_with_reason(book):
    activate(book["tenant"], "Picky", min_fit_score=101 - 1)
    book["account"].employees = 10
    book["account"].save()

    entry = booked(won(book, "D1", close=datetime.date(2017, 3, 1)))

    # Software but small: score 50, tier B, below the minimum of 100.
    assert entry.amount == 0
    assert entry.uncapped_amount == Decimal("100.00")
    assert "below the plan's minimum of 100" in entry.memo


# Effective dates


def test_plan_in_force_on_close_date(book):
    tenant = book["tenant"]
    first = activate(tenant, "2017 plan", "0.1000")
    second = activate(tenant, "H2 plan", "0.2000", effective_from=datetime.date(2017, 7, 1))

    before = booked(won(book, "D1", close=datetime.date(2017, 6, 30)))
    after = booked(won(book, "D2", close=datetime.date(2017, 7, 1)))

    first.refresh_from_db()
    assert (first.effective_from, first.effective_to) == (None, datetime.date(2017, 6, 30))
    assert (first.is_active, second.is_active) == (False, True)
    assert (before.plan_id, before.rate) == (first.pk, Decimal("0.1000"))
    assert (after.plan_id, after.rate) == (second.pk, Decimal("0.2000"))


def test_replacing_plan_defaults_to_today(book):
    tenant = book["tenant"]
    activate(tenant, "Old")

    new = activate(tenant, "New")

    assert new.effective_from == tenant.today()
    assert CommissionPlan.objects.get(
        name="Old"
    ).effective_to == tenant.today() - datetime.timedelta(days=1)


def test_new_plan_must_start_after_the_active_one(book):
    tenant = book["tenant"]
    activate(tenant, "H2", effective_from=datetime.date(2017, 7, 1))

    with pytest.raises(DomainError) as error:
        activate(tenant, "Backdated", effective_from=datetime.date(2017, 7, 1))

    assert error.value.field == "effective_from"
    assert CommissionPlan.objects.get(name="H2").is_active


def test_reopening_a_replaced_plan_is_refused(book):
    tenant = book["tenant"]
    activate(tenant, "A", effective_from=datetime.date(2017, 1, 1))
    activate(tenant, "B", effective_from=datetime.date(2017, 7, 1))

    with pytest.raises(Conflict) as error:
        activate(tenant, "A")

    assert "Copy it into a new draft" in error.value.fix


def test_deal_before_every_plan_waits_with_reason(book):
    activate(book["tenant"], "Late", effective_from=datetime.date(2018, 1, 1))
    deal = won(book, "D1", close=datetime.date(2017, 3, 1))

    deals_process(tenant_id=deal.tenant_id)

    deal.refresh_from_db()
    assert deal.pipeline_status == Deal.PipelineStatus.PENDING
    assert "in force on the deal's close date" in deal.pipeline_error
    assert not LedgerEntry.objects.exists()


def test_editing_the_active_plan_changes_future_entries_only(book):
    tenant = book["tenant"]
    activate(tenant, "Live", "0.1000")
    first = booked(won(book, "D1", close=datetime.date(2017, 3, 1)))

    activate(tenant, "Live", "0.3000")
    second = booked(won(book, "D2", close=datetime.date(2017, 3, 2)))

    first.refresh_from_db()
    assert (first.rate, first.amount) == (Decimal("0.1000"), Decimal("150.00"))
    assert (second.rate, second.amount) == (Decimal("0.3000"), Decimal("450.00"))


# Drafts


def test_draft_pays_nothing_until_activated(book):
    tenant = book["tenant"]
    activate(tenant, "Live", "0.1000")
    draft = commission_plan_draft_save(tenant=tenant, name="Draft", base_rate=Decimal("0.5"))

    entry = booked(won(book, "D1", close=datetime.date(2017, 3, 1)))

    assert draft.is_draft and not draft.is_active
    assert entry.rate == Decimal("0.1000")


def test_activated_plan_not_a_draft(book):
    tenant = book["tenant"]
    live = activate(tenant, "Live")

    with pytest.raises(Conflict):
        commission_plan_draft_save(tenant=tenant, pk=live.pk, base_rate=Decimal("0.2"))
    with pytest.raises(Conflict):
        commission_plan_draft_delete(tenant=tenant, plan=live)


def test_copy_keeps_terms_and_rules_and_is_audited(book):
    tenant = book["tenant"]
    live = activate(
        tenant,
        "Live",
        min_fit_score=40,
        score_bands=[{"min_score": 80, "multiplier": "1.2"}],
        rules=[{"scope": "segment", "value": "grow", "rate": Decimal("0.07")}],
    )

    copy = commission_plan_copy(tenant=tenant, source=live, name="Next")

    assert copy.is_draft and copy.min_fit_score == 40
    assert copy.score_bands == [{"min_score": 80, "multiplier": "1.20"}]
    assert [(r.scope, r.value, r.rate) for r in copy.rules.all()] == [
        ("segment", "grow", Decimal("0.0700"))
    ]
    assert AuditEvent.objects.filter(event="commission_plan.draft_saved").exists()


# Renewals and expansions


def test_renewal_goes_to_original_partner_at_frozen_rate(book):
    tenant = book["tenant"]
    activate(tenant, "Live", "0.1000", recurring_months=12)
    original = booked(won(book, "NEW", close=datetime.date(2017, 3, 1)))
    # The rate rises and another partner registers the account since.
    activate(tenant, "Live", "0.3000")
    other = PartnerFactory(tenant=tenant, external_id="p2")
    registration_create(other, "acme.com", datetime.date(2017, 10, 1))

    renewal = booked(won(book, "REN", close=datetime.date(2018, 2, 28), kind="renewal"))
    late = booked(won(book, "LATE", close=datetime.date(2018, 3, 1), kind="expansion"))

    assert renewal.partner_id == late.partner_id == book["partner"].pk
    assert (renewal.rate_source, renewal.original_id, renewal.rate) == (
        "frozen",
        original.pk,
        Decimal("0.1000"),
    )
    assert renewal.amount == Decimal("150.00")
    assert (late.rate_source, late.amount) == ("recurring", 0)


# Caps


def test_partner_cap_in_close_order(book):
    activate(book["tenant"], "Capped", cap_per_partner=Decimal("400.00"), cap_period="month")
    deals = [won(book, f"D{n}", close=datetime.date(2017, 3, n + 1)) for n in range(4)]
    april = won(book, "APR", close=datetime.date(2017, 4, 1))

    deals_process(tenant_id=book["tenant"].pk)

    amounts = [LedgerEntry.objects.get(deal=deal).amount for deal in deals]
    assert amounts == [Decimal("150.00"), Decimal("150.00"), Decimal("100.00"), Decimal("0.00")]
    assert LedgerEntry.objects.get(deal=deals[2]).uncapped_amount == Decimal("150.00")
    assert LedgerEntry.objects.get(deal=april).amount == Decimal("150.00")


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_pay_more_than_the_cap(tenant, monkeypatch):
    with tenant_scope(tenant):
        make_active_version(tenant)
        partner = PartnerFactory(tenant=tenant, external_id="p1")
        deals = []
        for n in range(6):
            account = AccountFactory(tenant=tenant, domain=f"acme{n}.com", employees=5000,
                                     industry="software")  # fmt: skip
            registration_create(partner, account.domain, datetime.date(2017, 1, 1))
            deals.append(
                # Open, so the pipeline leaves them to the workers below.
                DealFactory(
                    tenant=tenant,
                    account=account,
                    partner=partner,
                    stage=Deal.Stage.OPEN,
                    close_date=datetime.date(2017, 3, 1),
                )
            )
        activate(tenant, "Capped", cap_per_partner=Decimal("500.00"))
    barrier = threading.Barrier(2)
    errors = []
    # Hold each worker between reading what the partner earned and writing, so the
    # other one reads in that gap unless the cap lock makes it wait.
    read_earned = PartnerCaps.earned

    def slow_earned(self, **kwargs):
        earned = read_earned(self, **kwargs)
        time.sleep(0.3)
        return earned

    monkeypatch.setattr(PartnerCaps, "earned", slow_earned)

    def work(ids):
        try:
            with tenant_scope(tenant):
                barrier.wait(timeout=10)
                # The accrual writer alone, without the pipeline's other locks.
                plan = CommissionPlan.objects.get(name="Capped")
                rows = list(
                    Deal.objects.filter(pk__in=ids).values(
                        "id", "partner_id", "amount", "currency", "won_fit_tier",
                        "won_fit_score", "won_fit_version_id",
                    )
                )  # fmt: skip
                for row in rows:
                    row["won_fit_tier"], row["won_fit_score"] = "A", 100
                accruals_write(plan=plan, deals=rows)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    halves = [[d.pk for d in deals[:3]], [d.pk for d in deals[3:]]]
    threads = [threading.Thread(target=work, args=(half,)) for half in halves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    with tenant_scope(tenant):
        amounts = list(LedgerEntry.objects.values_list("amount", flat=True))
    assert errors == []
    assert len(amounts) == 6
    assert sum(amounts) == Decimal("500.00")


# Currency


def test_converted_deal_refund_share(book):
    tenant = book["tenant"]
    activate(tenant, "Live", "0.1000")
    exchange_rates_upsert(
        tenant=tenant, rows=[{"currency": "EUR", "rate_date": "2017-02-15", "rate": "1.2"}]
    )
    deal = won(book, "EUR1", close=datetime.date(2017, 3, 1), currency="EUR")
    accrual = booked(deal)

    result = revenue_event_record(
        tenant=tenant,
        external_id="R1",
        kind="refund",
        occurred_on=datetime.date(2017, 4, 1),
        deal_external_id="EUR1",
        amount=Decimal("250.00"),
    )
    revenue_event_process(tenant_id=tenant.pk, event_id=result.event.pk)

    reversal = LedgerEntry.objects.get(kind=LedgerEntry.Kind.REVERSAL)
    # 1,000 EUR × 1.2 = 1,200 USD × 10 % × 1.50 = 180.00; a quarter of it is 45.00.
    assert (accrual.amount, accrual.currency) == (Decimal("180.00"), "USD")
    assert (reversal.amount, reversal.base_amount) == (Decimal("-45.00"), Decimal("-300.00"))
    assert (reversal.deal_amount, reversal.deal_currency) == (Decimal("-250.00"), "EUR")
