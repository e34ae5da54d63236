from django.urls import path

from icp.pages import learn, versions

app_name = "icp"
urlpatterns = [
    path("", versions.version_list, name="version_list"),
    path("versions/<int:pk>/", versions.version_detail, name="version_detail"),
    path("learn/", learn.learn_start, name="learn_start"),
]
