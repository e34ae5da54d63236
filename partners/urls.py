from django.urls import path

from partners import views

app_name = "partners"
urlpatterns = [
    path("", views.partner_list, name="partner_list"),
    path("new/", views.partner_create, name="partner_create"),
    path("ranking/", views.partner_ranking, name="partner_ranking"),
    path("segments/", views.partner_segments, name="partner_segments"),
    path("portal/", views.portal, name="portal"),
    path("portal/brief.csv", views.portal_brief_export, name="portal_brief_csv"),
    path("<int:pk>/", views.partner_detail, name="partner_detail"),
    path("<int:pk>/edit/", views.partner_edit, name="partner_edit"),
    path("<int:pk>/brief.csv", views.partner_brief_export, name="partner_brief_csv"),
    path("<int:pk>/status/", views.partner_status_change, name="partner_status_change"),
]
