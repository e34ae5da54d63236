"""API routes of the tenant's API keys, mounted under /api/v1/."""

from django.urls import path

from tenancy.api import key_views

urlpatterns = [
    path("api-keys/", key_views.ApiKeyListView.as_view(), name="api-api-key-list"),
    path(
        "api-keys/<int:pk>/revoke/",
        key_views.ApiKeyRevokeView.as_view(),
        name="api-api-key-revoke",
    ),
]
