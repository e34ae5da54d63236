from django.urls import path

from icp.pages import review, versions

app_name = "icp"
urlpatterns = [
    path("", versions.version_list, name="version_list"),
    path("versions/<int:pk>/", versions.version_detail, name="version_detail"),
    path("review/", review.review, name="review"),
    path("review/complete/", review.review_complete, name="review_complete"),
    path("review/draft/", review.drift_draft, name="drift_draft"),
]
