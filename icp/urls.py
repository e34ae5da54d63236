from django.urls import path

from icp.pages import diff, editor, learn, review, versions

app_name = "icp"
urlpatterns = [
    path("", versions.version_list, name="version_list"),
    path("versions/<int:pk>/", versions.version_detail, name="version_detail"),
    path("review/", review.review, name="review"),
    path("review/complete/", review.review_complete, name="review_complete"),
    path("review/draft/", review.drift_draft, name="drift_draft"),
    path("versions/new/", editor.version_new, name="version_new"),
    path("versions/preview/", editor.version_preview, name="version_preview"),
    path("versions/<int:pk>/edit/", editor.version_edit, name="version_edit"),
    path("versions/<int:pk>/copy/", editor.version_copy, name="version_copy"),
    path("versions/<int:pk>/activate/", editor.version_activate, name="version_activate"),
    path("versions/<int:pk>/delete/", editor.version_delete, name="version_delete"),
    path("learn/", learn.learn_start, name="learn_start"),
    path("diff/", diff.versions_diff, name="versions_diff"),
]
