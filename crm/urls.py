from django.urls import path

from crm import views

app_name = "crm"
urlpatterns = [
    path("", views.account_list, name="account_list"),
    path("<int:pk>/", views.account_detail, name="account_detail"),
    path("imports/", views.import_list, name="import_list"),
    path("imports/upload/", views.import_upload, name="import_upload"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
]
