"""API routes of attribution, mounted under /api/v1/."""

from django.urls import path

from attribution.api import portal, views

urlpatterns = [
    path("referrals/", views.ReferralListView.as_view(), name="api-referral-list"),
    path("referrals/check/", views.ReferralCheckView.as_view(), name="api-referral-check"),
    path("referrals/<int:pk>/", views.ReferralDetailView.as_view(), name="api-referral-detail"),
    path(
        "referrals/<int:pk>/approve/",
        views.ReferralApproveView.as_view(),
        name="api-referral-approve",
    ),
    path(
        "referrals/<int:pk>/reject/", views.ReferralRejectView.as_view(), name="api-referral-reject"
    ),
    path("links/", views.LinkListView.as_view(), name="api-link-list"),
    path("links/<int:pk>/", views.LinkDetailView.as_view(), name="api-link-detail"),
    path(
        "links/<int:pk>/deactivate/", views.LinkDeactivateView.as_view(), name="api-link-deactivate"
    ),
    path("touches/", views.ConversionView.as_view(), name="api-touch-create"),
    path(
        "settings/attribution/",
        views.AttributionSettingsView.as_view(),
        name="api-settings-attribution",
    ),
    path("portal/referrals/", portal.PortalReferralListView.as_view(), name="api-portal-referrals"),
    path(
        "portal/referrals/check/",
        portal.PortalReferralCheckView.as_view(),
        name="api-portal-referral-check",
    ),
    path("portal/links/", portal.PortalLinkListView.as_view(), name="api-portal-links"),
]
