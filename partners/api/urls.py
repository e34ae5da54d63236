"""API routes of partners, mounted under /api/v1/."""

from django.urls import path

from partners.api import views

urlpatterns = [
    path("partners/", views.PartnerListView.as_view(), name="api-partner-list"),
    path("partners/ranking/", views.PartnerRankingView.as_view(), name="api-partner-ranking"),
    path("partners/segments/", views.PartnerSegmentsView.as_view(), name="api-partner-segments"),
    path("partners/<int:pk>/", views.PartnerDetailView.as_view(), name="api-partner-detail"),
    path("partners/<int:pk>/status/", views.PartnerStatusView.as_view(), name="api-partner-status"),
    path("partners/<int:pk>/reach/", views.ReachPushView.as_view(), name="api-partner-reach"),
    path("referrals/", views.ReferralCreateView.as_view(), name="api-referral-create"),
]
