"""API routes of the commission ledger, mounted under /api/v1/."""

from django.urls import path

from commissions.api import views

urlpatterns = [
    path("ledger/", views.LedgerEntryListView.as_view(), name="api-ledger-list"),
    path("revenue-events/", views.RevenueEventListView.as_view(), name="api-revenue-event-list"),
    path("commission-plan/", views.CommissionPlanView.as_view(), name="api-commission-plan"),
]
