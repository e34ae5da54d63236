"""API routes of the commission ledger, mounted under /api/v1/."""

from django.urls import path

from commissions.api import (
    payout_views,
    recalculation_views,
    simulation_views,
    unit_economics_views,
    views,
)

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
