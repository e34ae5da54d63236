"""API routes of ICP versions, mounted under /api/v1/."""

from django.urls import path

from icp.api import editor

urlpatterns = [
    path("icp/versions/", editor.IcpVersionCollectionView.as_view(), name="api-icp-version-list"),
    path(
        "icp/versions/<int:pk>/",
        editor.IcpVersionItemView.as_view(),
        name="api-icp-version-detail",
    ),
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
]
