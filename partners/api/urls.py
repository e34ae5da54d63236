"""API routes of partners, mounted under /api/v1/."""

from django.urls import path

from partners.api import portal, views

urlpatterns = [
    path("partners/", views.PartnerListView.as_view(), name="api-partner-list"),
    path("partners/<int:pk>/", views.PartnerDetailView.as_view(), name="api-partner-detail"),
    path("partners/<int:pk>/status/", views.PartnerStatusView.as_view(), name="api-partner-status"),
    path("partners/<int:pk>/reach/", views.ReachPushView.as_view(), name="api-partner-reach"),
    path("portal/partner/", portal.PortalPartnerView.as_view(), name="api-portal-partner"),
]
