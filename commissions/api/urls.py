"""API routes of the commission ledger, mounted under /api/v1/."""

from django.urls import path

from commissions.api import fx_views, payout_views, plan_views, unit_economics_views, views

urlpatterns = [
    path("ledger/", views.LedgerEntryListView.as_view(), name="api-ledger-list"),
    path("revenue-events/", views.RevenueEventListView.as_view(), name="api-revenue-event-list"),
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
]
