"""Test data for the dashboard pages: an ICP version, partners, accounts, deals and ledger."""

from __future__ import annotations

import datetime
from decimal import Decimal
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile

from attribution.models import FraudSignal, Referral, TrackingLink
from billing.connections import billing_connection_create
from billing.models import BillingEvent
from commissions.fx_models import ExchangeRate
from commissions.mdf import mdf_claim_submit, mdf_request_approve, mdf_request_submit
from commissions.mdf_allocation import mdf_allocate
from commissions.mdf_budgets import mdf_budget_set, mdf_period_parse
from commissions.models import LedgerEntry, Payout, Recalculation, RevenueEvent
from crm.models import Deal, ImportRun
from icp.models import IcpVersion
from jobs.models import Job
from partners.models import PartnerScore
from reporting.services import partner_rollups_refresh
from tenancy.models import Membership
from tenancy.scope import tenant_scope
from tests.factories import (
    AccountFactory,
    CommissionPlanFactory,
    DealFactory,
    FraudSignalFactory,
    MembershipFactory,
    PartnerFactory,
    ReachEntryFactory,
    ReferralFactory,
    UserFactory,
)
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

# Software companies of 200 employees or more are tier A, and either one alone is tier B.
CRITERIA = [
    {
        "key": "industry",
        "label": "Industry: software",
        "field": "industry",
        "kind": "category",
        "values": ["software"],
        "weight": 60,
        "support": {"deals": 30, "accounts": 12},
        "lift": {"win_rate": 1.4, "won_value": 1.8},
    },
    {
        "key": "employees",
        "label": "Employees 200 or more",
        "field": "employees",
        "kind": "range",
        "min": 200,
        "max": None,
        "weight": 40,
        "support": {"deals": 25, "accounts": 10},
        "lift": {"win_rate": 1.2, "won_value": 1.1},
    },
]
CUTOFFS = {"A": 80, "B": 40, "C": 20}
METRICS = {
    "objective": "won",
    "counts": {"closed": 60, "won": 25, "lost": 35, "accounts": 20},
    "cv_auc_won": {"mean": 0.712, "std": 0.041, "folds": 5},
    "cv_auc_value": {"mean": 0.58, "std": 0.09, "folds": 4},
    "cv_auc_criteria": {"mean": 0.69, "std": 0.05, "folds": 4},
    "tiers": {
        "A": {"accounts": 5, "closed_deals": 20, "won_deals": 12, "win_rate": 0.6},
        "B": {"accounts": 5, "closed_deals": 15, "won_deals": 6, "win_rate": 0.4},
        "C": {"accounts": 5, "closed_deals": 15, "won_deals": 5, "win_rate": 0.333},
        "D": {"accounts": 5, "closed_deals": 10, "won_deals": 2, "win_rate": 0.2},
    },
    "tier_basis": "in-sample scores of the training accounts",
}


def icp_version_create(*, number: int = 1, signal: str = "strong", **values) -> IcpVersion:
    """Create a learned ICP version in the active tenant scope."""
    defaults = {
        "name": "Learned from closed deals",
        "status": IcpVersion.Status.ACTIVE,
        "provenance": IcpVersion.Provenance.LEARNED,
        "objective": "won",
        "signal": signal,
        "summary": "Won vs lost shows strong signal in these firmographics.",
        "criteria": CRITERIA,
        "tier_cutoffs": CUTOFFS,
        "metrics": METRICS,
    }
    return IcpVersion.objects.create(number=number, **{**defaults, **values})


def ledger_entry_create(*, partner, deal=None, plan=None, **values) -> LedgerEntry:
    """Write one accrual in the active tenant scope. Amounts default to a tier A deal."""
    defaults = {
        "idempotency_key": f"test:{partner.pk}:{deal.pk if deal else 'none'}",
        "base_amount": Decimal("12500.00"),
        "rate": Decimal("0.1000"),
        "multiplier": Decimal("1.50"),
        "fit_tier": "A",
        "fit_score": 100,
        "amount": Decimal("1875.00"),
        "currency": "USD",
    }
    return LedgerEntry.objects.create(
        partner=partner, deal=deal, plan=plan, **{**defaults, **values}
    )


def program_create(tenant, *, label: str) -> SimpleNamespace:
    """Fill `tenant` with one of each object the pages show; `label` prefixes their names."""
    with tenant_scope(tenant):
        version = icp_version_create(name=f"{label} profile")
        partner = PartnerFactory(name=f"{label} Referrals", is_generated=True)
        account = AccountFactory(
            name=f"{label} Initech",
            fit_score=100,
            fit_tier="A",
            fit_version=version,
            referred_by=partner,
        )
        direct_account = AccountFactory(
            name=f"{label} Umbrella", fit_score=25, fit_tier="C", industry="retail"
        )
        ReachEntryFactory(partner=partner, domain=account.domain, account=account)
        ReachEntryFactory(partner=partner, domain=f"{label.lower()}-unmatched.com")

        partner_deal = DealFactory(
            external_id=f"{label}-deal-partner",
            account=account,
            partner=partner,
            source=Deal.Source.PARTNER,
            amount=Decimal("12500.00"),
            won_fit_tier="A",
            won_fit_score=100,
            won_fit_version=version,
        )
        DealFactory(
            external_id=f"{label}-deal-direct-won",
            account=direct_account,
            amount=Decimal("4000.00"),
            won_fit_tier="C",
        )
        DealFactory(
            external_id=f"{label}-deal-direct-lost",
            account=direct_account,
            stage=Deal.Stage.LOST,
            amount=Decimal("9000.00"),
        )

        referral = Referral.objects.create(
            partner=partner,
            domain=account.domain,
            company_name=account.name,
            account=account,
            registered_at=datetime.datetime(2017, 1, 1, tzinfo=datetime.UTC),
            expires_on=datetime.date(2018, 1, 1),
            status=Referral.Status.CONFLICT,
            conflict=Referral.Conflict.OPEN_DEAL,
            source=Referral.Source.PORTAL,
        )
        link = TrackingLink.objects.create(
            partner=partner,
            code=f"{label.lower()}link01",
            label=f"{label} newsletter",
            destination=f"https://{label.lower()}.example.com/",
        )
        plan = CommissionPlanFactory()
        entry = ledger_entry_create(
            partner=partner, deal=partner_deal, plan=plan, icp_version=version
        )
        recalculation = Recalculation.objects.create(
            plan=plan,
            close_from=datetime.date(2017, 1, 1),
            close_to=datetime.date(2017, 12, 31),
            fingerprint="0" * 64,
            expires_at=datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC),
        )
        payout = Payout.objects.create(
            partner=partner,
            period_start=datetime.date(2017, 6, 1),
            period_end=datetime.date(2017, 6, 30),
            currency="USD",
            total=Decimal("1875.00"),
            entry_count=0,
            min_payout_amount=Decimal("50.00"),
        )
        PartnerScore.objects.create(
            partner=partner,
            icp_version=version,
            reach_count=2,
            matched_count=1,
            on_profile_count=1,
            on_profile_share=Decimal("1.0000"),
            target_count=2,
            target_overlap_count=1,
            target_coverage=Decimal("0.5000"),
            overlap_score=73,
        )
        partner_rollups_refresh()
        # A registration of a company without an account, so the signal holds no entry.
        own_referral = ReferralFactory(partner=partner, domain=f"{label.lower()}-own.com")
        fraud_signal = FraudSignalFactory(
            partner=partner,
            kind=FraudSignal.Kind.SELF_REFERRAL,
            referral=own_referral,
            summary=f"Self-referral of {own_referral.domain}: the registered domain is the "
            "partner's own domain.",
        )
        job = Job.objects.create(kind=Job.Kind.ICP_RESCORE, stage=f"{label} rescore")
        portal_membership = MembershipFactory(
            tenant=tenant,
            user=UserFactory(username=f"{label.lower()}-portal@example.com"),
            role=Membership.Role.PARTNER,
            partner=partner,
        )
        staff_membership = MembershipFactory(
            tenant=tenant,
            user=UserFactory(username=f"{label.lower()}-analyst@example.com"),
            role=Membership.Role.ANALYST,
        )
        run = ImportRun.objects.create(
            kind=ImportRun.Kind.ACCOUNTS,
            filename=f"{label.lower()}-accounts.csv",
            strict=False,
            status=ImportRun.Status.PARTIAL,
            rows_total=2,
            rows_created=1,
            rows_rejected=1,
            errors=[
                {
                    "line": 3,
                    "column": "employees",
                    "value": "many",
                    "message": "Expected a whole number.",
                }
            ],
        )
        exchange_rate = ExchangeRate.objects.create(
            currency="EUR",
            rate_date=datetime.date(2017, 6, 1),
            rate=Decimal("1.12000000"),
            source=f"{label} treasury",
        )
        # Recorded but not processed, so it wrote no reversals.
        revenue_event = RevenueEvent.objects.create(
            external_id=f"{label.lower()}-churn",
            kind=RevenueEvent.Kind.CHURN,
            account=direct_account,
            occurred_on=datetime.date(2017, 7, 1),
        )
        mdf_request, mdf_proof = _mdf_records_create(tenant, partner, label)
        webhook_delivery = _webhook_delivery_create(tenant, label)
        billing_connection = billing_connection_create(
            tenant=tenant,
            provider="stripe",
            name=f"{label} Stripe",
            signing_secret=f"whsec_{label.lower()}0000000000000000",
        )
        billing_event = BillingEvent.objects.create(
            connection=billing_connection,
            provider="stripe",
            event_id=f"evt_{label.lower()}",
            event_type="invoice.paid",
            occurred_at=datetime.datetime(2017, 6, 1, tzinfo=datetime.UTC),
            status=BillingEvent.Status.UNMATCHED,
            error=f"No account matches {label} customer.",
            payload={},
        )
    return SimpleNamespace(
        tenant=tenant,
        version=version,
        partner=partner,
        account=account,
        deal=partner_deal,
        entry=entry,
        run=run,
        job=job,
        plan=plan,
        portal_membership=portal_membership,
        staff_membership=staff_membership,
        fraud_signal=fraud_signal,
        referral=referral,
        link=link,
        payout=payout,
        exchange_rate=exchange_rate,
        mdf_budget=mdf_request.allocation.budget,
        mdf_request=mdf_request,
        mdf_proof=mdf_proof,
        recalculation=recalculation,
        webhook_endpoint=webhook_delivery.endpoint,
        webhook_delivery=webhook_delivery,
        billing_connection=billing_connection,
        billing_event=billing_event,
        revenue_event=revenue_event,
    )


def _mdf_records_create(tenant, partner, label: str):
    """Allocate an MDF budget of 2017-Q3 and store an approved, claimed request with proof."""
    budget, _ = mdf_budget_set(
        tenant=tenant, period=mdf_period_parse("2017-Q3"), amount=Decimal("5000.00")
    )
    mdf_allocate(budget_id=budget.pk)
    budget.refresh_from_db()
    mdf_request, _ = mdf_request_submit(
        partner=partner,
        budget=budget,
        idempotency_key=f"{label.lower()}-webinar",
        title=f"{label} webinar",
        description="",
        activity_type="event",
        planned_start=datetime.date(2017, 8, 1),
        planned_end=datetime.date(2017, 8, 1),
        requested_amount=Decimal("500.00"),
    )
    mdf_request_approve(request_id=mdf_request.pk)
    claim, _ = mdf_claim_submit(
        request_id=mdf_request.pk,
        claimed_amount=Decimal("400.00"),
        files=[SimpleUploadedFile(f"{label.lower()}-invoice.pdf", b"%PDF-1.4 invoice")],
    )
    return mdf_request, claim.proofs.get()


def _webhook_delivery_create(tenant, label: str) -> WebhookDelivery:
    """Store an inactive endpoint with one pending delivery of a ping event.

    The endpoint is inactive, so pages that book deals send nothing to its host.
    """
    endpoint = WebhookEndpoint.objects.create(
        url=f"https://{label.lower()}.example.com/hooks",
        description=f"{label} receiver",
        event_types=["deal.scored"],
        secret=f"whsec_{label.lower()}",
        is_active=False,
    )
    event = WebhookEvent.objects.create(type="ping", payload={"message": f"{label} ping"})
    return WebhookDelivery.objects.create(event=event, endpoint=endpoint)
