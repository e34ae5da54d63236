from django.urls import path

from commissions import mdf_pages, payout_pages
from partners import application_views, portal_user_views, views

app_name = "partners"
urlpatterns = [
    path("", views.partner_list, name="partner_list"),
    path("export.csv", views.partner_list_csv, name="partner_list_csv"),
    path("new/", views.partner_create, name="partner_create"),
    path("applications/", application_views.application_list, name="application_list"),
    path(
        "applications/open/",
        application_views.applications_open_set,
        name="applications_open_set",
    ),
    path("ranking/", views.partner_ranking, name="partner_ranking"),
    path("segments/", views.partner_segments, name="partner_segments"),
    path("portal/", views.portal, name="portal"),
    path("portal/live/", views.portal_live, name="portal_live"),
    path("portal/brief.csv", views.portal_brief_export, name="portal_brief_csv"),
    path("portal/statements/<int:pk>/", payout_pages.portal_statement, name="portal_statement"),
    path("<int:pk>/", views.partner_detail, name="partner_detail"),
    path("<int:pk>/edit/", views.partner_edit, name="partner_edit"),
    path("<int:pk>/brief.csv", views.partner_brief_export, name="partner_brief_csv"),
    path(
        "<int:pk>/portal-users/",
        portal_user_views.portal_user_invite,
        name="portal_user_invite",
    ),
    path(
        "portal-users/<int:pk>/remove/",
        portal_user_views.portal_user_remove,
        name="portal_user_remove",
    ),
    path("<int:pk>/status/", views.partner_status_change, name="partner_status_change"),
    path("<int:pk>/portal-preview/", views.partner_portal_preview, name="partner_portal_preview"),
    path(
        "<int:pk>/portal-preview/brief.csv",
        views.partner_portal_preview_export,
        name="partner_portal_preview_csv",
    ),
    path("portal/mdf/", mdf_pages.portal_mdf, name="portal_mdf"),
    path("portal/mdf/requests/<int:pk>/", mdf_pages.portal_mdf_request, name="portal_mdf_request"),
    path("portal/mdf/proofs/<int:pk>/", mdf_pages.portal_mdf_proof, name="portal_mdf_proof"),
]
