"""API routes of outgoing webhooks, mounted under /api/v1/."""

from django.urls import path

from webhooks.api import views

urlpatterns = [
    path(
        "webhooks/endpoints/",
        views.EndpointListView.as_view(),
        name="api-webhook-endpoint-list",
    ),
    path(
        "webhooks/endpoints/<int:pk>/",
        views.EndpointDetailView.as_view(),
        name="api-webhook-endpoint-detail",
    ),
    path(
        "webhooks/endpoints/<int:pk>/rotate-secret/",
        views.EndpointRotateSecretView.as_view(),
        name="api-webhook-endpoint-rotate-secret",
    ),
    path(
        "webhooks/endpoints/<int:pk>/test/",
        views.EndpointTestView.as_view(),
        name="api-webhook-endpoint-test",
    ),
    path(
        "webhooks/deliveries/",
        views.DeliveryListView.as_view(),
        name="api-webhook-delivery-list",
    ),
    path(
        "webhooks/deliveries/<int:pk>/",
        views.DeliveryDetailView.as_view(),
        name="api-webhook-delivery-detail",
    ),
    path(
        "webhooks/deliveries/<int:pk>/replay/",
        views.DeliveryReplayView.as_view(),
        name="api-webhook-delivery-replay",
    ),
]
