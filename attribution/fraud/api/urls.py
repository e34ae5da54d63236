"""API routes of fraud signals, mounted under /api/v1/."""

from django.urls import path

from attribution.fraud.api import views

urlpatterns = [
    path("fraud-signals/", views.FraudSignalListView.as_view(), name="api-fraud-signal-list"),
    path(
        "fraud-signals/<int:pk>/",
        views.FraudSignalDetailView.as_view(),
        name="api-fraud-signal-detail",
    ),
    path(
        "fraud-signals/<int:pk>/dismiss/",
        views.FraudSignalDismissView.as_view(),
        name="api-fraud-signal-dismiss",
    ),
    path(
        "fraud-signals/<int:pk>/confirm/",
        views.FraudSignalConfirmView.as_view(),
        name="api-fraud-signal-confirm",
    ),
]
