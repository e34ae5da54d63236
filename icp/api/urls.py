"""API routes of ICP versions, mounted under /api/v1/."""

from django.urls import path

from icp.api import review, versions

urlpatterns = [
    path("icp/versions/", versions.IcpVersionListView.as_view(), name="api-icp-version-list"),
    path(
        "icp/versions/<int:pk>/",
        versions.IcpVersionDetailView.as_view(),
        name="api-icp-version-detail",
    ),
    path("icp/review/", review.IcpReviewView.as_view(), name="api-icp-review"),
    path(
        "icp/review/complete/",
        review.IcpReviewCompleteView.as_view(),
        name="api-icp-review-complete",
    ),
    path("icp/drift/draft/", review.IcpDriftDraftView.as_view(), name="api-icp-drift-draft"),
]
