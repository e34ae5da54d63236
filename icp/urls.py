from django.urls import path

from icp import views

app_name = "icp"
urlpatterns = [
    path("", views.version_list, name="version_list"),
    path("versions/<int:pk>/", views.version_detail, name="version_detail"),
]
