from django.urls import path

from icp.pages import diff, versions

app_name = "icp"
urlpatterns = [
    path("", versions.version_list, name="version_list"),
    path("versions/<int:pk>/", versions.version_detail, name="version_detail"),
    path("diff/", diff.versions_diff, name="versions_diff"),
]
