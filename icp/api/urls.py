"""API routes of ICP versions, mounted under /api/v1/."""

from django.urls import path

from icp.api import diff, editor, learn, review

urlpatterns = [
    path("icp/versions/", editor.IcpVersionCollectionView.as_view(), name="api-icp-version-list"),
    path(
        "icp/versions/<int:pk>/",
        editor.IcpVersionItemView.as_view(),
        name="api-icp-version-detail",
    ),
    path("icp/review/", review.IcpReviewView.as_view(), name="api-icp-review"),
    path(
        "icp/review/complete/",
        review.IcpReviewCompleteView.as_view(),
        name="api-icp-review-complete",
    ),
    path("icp/drift/draft/", review.IcpDriftDraftView.as_view(), name="api-icp-drift-draft"),
    path(
        "icp/versions/<int:pk>/copy/",
        editor.IcpVersionCopyView.as_view(),
        name="api-icp-version-copy",
    ),
    path(
        "icp/versions/<int:pk>/activate/",
        editor.IcpVersionActivateView.as_view(),
        name="api-icp-version-activate",
    ),
    path("icp/learn/", learn.IcpLearnView.as_view(), name="api-icp-learn"),
    path(
        "icp/versions/<int:pk>/diff/",
        diff.IcpVersionDiffView.as_view(),
        name="api-icp-version-diff",
    ),
]
