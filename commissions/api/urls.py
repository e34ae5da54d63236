"""API routes of the commission ledger, mounted under /api/v1/."""

from django.urls import path

from commissions.api import (
    detail_views,
    fx_views,
    mdf_views,
    payout_views,
    plan_views,
    recalculation_views,
    simulation_views,
    unit_economics_views,
    views,
)

urlpatterns = [
    path("ledger/", views.LedgerEntryListView.as_view(), name="api-ledger-list"),
    path(
        "ledger/<int:pk>/", detail_views.LedgerEntryDetailView.as_view(), name="api-ledger-detail"
    ),
    path("revenue-events/", views.RevenueEventListView.as_view(), name="api-revenue-event-list"),
    path(
        "revenue-events/<int:pk>/",
        detail_views.RevenueEventDetailView.as_view(),
        name="api-revenue-event-detail",
    ),
    path(
        "unit-economics/",
        unit_economics_views.UnitEconomicsView.as_view(),
        name="api-unit-economics",
    ),
    path("commission-plan/", views.CommissionPlanView.as_view(), name="api-commission-plan"),
    path(
        "commission-plans/",
        plan_views.CommissionPlanListView.as_view(),
        name="api-commission-plan-list",
    ),
    path(
        "commission-plans/preview/",
        plan_views.CommissionPreviewView.as_view(),
        name="api-commission-plan-preview",
    ),
    path(
        "commission-plans/<int:pk>/",
        plan_views.CommissionPlanDetailView.as_view(),
        name="api-commission-plan-detail",
    ),
    path(
        "commission-plans/<int:pk>/activate/",
        plan_views.CommissionPlanActivateView.as_view(),
        name="api-commission-plan-activate",
    ),
    path(
        "commission-plans/<int:pk>/copy/",
        plan_views.CommissionPlanCopyView.as_view(),
        name="api-commission-plan-copy",
    ),
    path(
        "ledger/<int:pk>/approve/",
        payout_views.LedgerEntryApproveView.as_view(),
        name="api-ledger-entry-approve",
    ),
    path(
        "ledger/<int:pk>/void/",
        payout_views.LedgerEntryVoidView.as_view(),
        name="api-ledger-entry-void",
    ),
    path("payouts/", payout_views.PayoutListView.as_view(), name="api-payout-list"),
    path("payouts/prepare/", payout_views.PayoutPrepareView.as_view(), name="api-payout-prepare"),
    path("payouts/export.csv", payout_views.PayoutExportView.as_view(), name="api-payout-export"),
    path("payouts/<int:pk>/", payout_views.PayoutDetailView.as_view(), name="api-payout-detail"),
    path(
        "payouts/<int:pk>/approve/",
        payout_views.PayoutApproveView.as_view(),
        name="api-payout-approve",
    ),
    path(
        "payouts/<int:pk>/mark-paid/",
        payout_views.PayoutMarkPaidView.as_view(),
        name="api-payout-mark-paid",
    ),
    path("exchange-rates/", fx_views.ExchangeRateListView.as_view(), name="api-exchange-rate-list"),
    path(
        "exchange-rates/quote/",
        fx_views.ExchangeRateQuoteView.as_view(),
        name="api-exchange-rate-quote",
    ),
    path(
        "exchange-rates/<int:pk>/",
        fx_views.ExchangeRateDetailView.as_view(),
        name="api-exchange-rate-detail",
    ),
    path("mdf/budgets/", mdf_views.MdfBudgetListView.as_view(), name="api-mdf-budget-list"),
    path(
        "mdf/budgets/<int:pk>/",
        mdf_views.MdfBudgetDetailView.as_view(),
        name="api-mdf-budget-detail",
    ),
    path(
        "mdf/budgets/<int:pk>/allocate/",
        mdf_views.MdfBudgetAllocateView.as_view(),
        name="api-mdf-budget-allocate",
    ),
    path("mdf/requests/", mdf_views.MdfRequestListView.as_view(), name="api-mdf-request-list"),
    path(
        "mdf/requests/<int:pk>/",
        mdf_views.MdfRequestDetailView.as_view(),
        name="api-mdf-request-detail",
    ),
    path(
        "mdf/requests/<int:pk>/approve/",
        mdf_views.MdfRequestApproveView.as_view(),
        name="api-mdf-request-approve",
    ),
    path(
        "mdf/requests/<int:pk>/reject/",
        mdf_views.MdfRequestRejectView.as_view(),
        name="api-mdf-request-reject",
    ),
    path(
        "mdf/requests/<int:pk>/cancel/",
        mdf_views.MdfRequestCancelView.as_view(),
        name="api-mdf-request-cancel",
    ),
    path(
        "mdf/requests/<int:pk>/claim/accept/",
        mdf_views.MdfClaimAcceptView.as_view(),
        name="api-mdf-claim-accept",
    ),
    path(
        "mdf/requests/<int:pk>/claim/reject/",
        mdf_views.MdfClaimRejectView.as_view(),
        name="api-mdf-claim-reject",
    ),
    path(
        "mdf/requests/<int:pk>/claim/reimburse/",
        mdf_views.MdfClaimReimburseView.as_view(),
        name="api-mdf-claim-reimburse",
    ),
    path("mdf/proofs/<int:pk>/", mdf_views.MdfProofView.as_view(), name="api-mdf-proof"),
    path(
        "portal/mdf/allocations/",
        mdf_views.PortalMdfAllocationListView.as_view(),
        name="api-portal-mdf-allocations",
    ),
    path(
        "portal/mdf/requests/",
        mdf_views.PortalMdfRequestListView.as_view(),
        name="api-portal-mdf-requests",
    ),
    path(
        "portal/mdf/requests/<int:pk>/",
        mdf_views.PortalMdfRequestDetailView.as_view(),
        name="api-portal-mdf-request-detail",
    ),
    path(
        "portal/mdf/requests/<int:pk>/claim/",
        mdf_views.PortalMdfClaimView.as_view(),
        name="api-portal-mdf-claim",
    ),
    path(
        "portal/mdf/proofs/<int:pk>/",
        mdf_views.PortalMdfProofView.as_view(),
        name="api-portal-mdf-proof",
    ),
    path(
        "commission-plans/<int:pk>/simulate/",
        simulation_views.PlanSimulateView.as_view(),
        name="api-commission-plan-simulate",
    ),
    path(
        "recalculations/",
        recalculation_views.RecalculationCreateView.as_view(),
        name="api-recalculation-create",
    ),
    path(
        "recalculations/<int:pk>/",
        recalculation_views.RecalculationDetailView.as_view(),
        name="api-recalculation-detail",
    ),
    path(
        "recalculations/<int:pk>/apply/",
        recalculation_views.RecalculationApplyView.as_view(),
        name="api-recalculation-apply",
    ),
    path(
        "recalculations/<int:pk>/discard/",
        recalculation_views.RecalculationDiscardView.as_view(),
        name="api-recalculation-discard",
    ),
]
