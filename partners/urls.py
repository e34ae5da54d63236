from django.urls import path

from partners import views

app_name = "partners"
urlpatterns = [
    path("", views.partner_list, name="partner_list"),
    path("portal/", views.portal, name="portal"),
    path("<int:pk>/", views.partner_detail, name="partner_detail"),
]
