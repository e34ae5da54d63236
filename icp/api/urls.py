"""API routes of ICP versions, mounted under /api/v1/."""

from django.urls import path

from icp.api import diff, versions

urlpatterns = [
    path("icp/versions/", versions.IcpVersionListView.as_view(), name="api-icp-version-list"),
    path(
        "icp/versions/<int:pk>/",
        versions.IcpVersionDetailView.as_view(),
        name="api-icp-version-detail",
    ),
    path(
        "icp/versions/<int:pk>/diff/",
        diff.IcpVersionDiffView.as_view(),
        name="api-icp-version-diff",
    ),
]
