from django.urls import path

from attribution import views

app_name = "attribution"
urlpatterns = [
    path("referrals/", views.referral_list, name="referral_list"),
    path(
        "referrals/<int:pk>/approve/",
        views.referral_review,
        {"decision": "approve"},
        name="referral_approve",
    ),
    path(
        "referrals/<int:pk>/reject/",
        views.referral_review,
        {"decision": "reject"},
        name="referral_reject",
    ),
    path("partners/<int:pk>/links/", views.partner_links, name="partner_links"),
    path("links/<int:pk>/deactivate/", views.link_deactivate, name="link_deactivate"),
    path("portal/referrals/", views.portal_referrals, name="portal_referrals"),
    path("portal/referrals/check/", views.portal_referral_check, name="portal_referral_check"),
    path("portal/links/", views.portal_links, name="portal_links"),
    path(
        "portal/links/<str:code>/deactivate/",
        views.portal_link_deactivate,
        name="portal_link_deactivate",
    ),
]
