"""API routes of billing connections, mounted under /api/v1/."""

from django.urls import path

from billing.api import views

urlpatterns = [
    path(
        "billing/connections/",
        views.ConnectionListView.as_view(),
        name="api-billing-connection-list",
    ),
    path(
        "billing/connections/<int:pk>/",
        views.ConnectionDetailView.as_view(),
        name="api-billing-connection-detail",
    ),
    path(
        "billing/connections/<int:pk>/rotate/",
        views.ConnectionRotateView.as_view(),
        name="api-billing-connection-rotate",
    ),
    path(
        "billing/connections/<int:pk>/deactivate/",
        views.ConnectionDeactivateView.as_view(),
        name="api-billing-connection-deactivate",
    ),
    path("billing/events/", views.EventListView.as_view(), name="api-billing-event-list"),
    path(
        "billing/events/<int:pk>/retry/",
        views.EventRetryView.as_view(),
        name="api-billing-event-retry",
    ),
]
