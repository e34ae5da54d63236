"""API routes of ICP versions, mounted under /api/v1/."""

from django.urls import path

from icp.api import views

urlpatterns = [
    path("icp/versions/", views.IcpVersionListView.as_view(), name="api-icp-version-list"),
    path(
        "icp/versions/<int:pk>/",
        views.IcpVersionDetailView.as_view(),
        name="api-icp-version-detail",
    ),
]
