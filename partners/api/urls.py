"""API routes of partners, mounted under /api/v1/."""

from django.urls import path

from partners.api import applications, briefs, portal, views

urlpatterns = [
    path("partners/", views.PartnerListView.as_view(), name="api-partner-list"),
    path("partners/ranking/", views.PartnerRankingView.as_view(), name="api-partner-ranking"),
    path("partners/segments/", views.PartnerSegmentsView.as_view(), name="api-partner-segments"),
    path("partners/<int:pk>/", views.PartnerDetailView.as_view(), name="api-partner-detail"),
    path("partners/<int:pk>/status/", views.PartnerStatusView.as_view(), name="api-partner-status"),
    path("partners/<int:pk>/brief/", briefs.PartnerBriefView.as_view(), name="api-partner-brief"),
    path("partners/<int:pk>/reach/", views.ReachPushView.as_view(), name="api-partner-reach"),
    path(
        "partner-applications/",
        applications.ApplicationListView.as_view(),
        name="api-partner-application-list",
    ),
    path("portal/partner/", portal.PortalPartnerView.as_view(), name="api-portal-partner"),
    path("portal/overlap/", portal.PortalOverlapView.as_view(), name="api-portal-overlap"),
    path("portal/reach/", portal.PortalReachView.as_view(), name="api-portal-reach"),
    path("portal/brief/", portal.PortalBriefView.as_view(), name="api-portal-brief"),
]
