"""API routes of background jobs, mounted under /api/v1/."""

from django.urls import path

from jobs.api import views

urlpatterns = [
    path("jobs/<int:pk>/", views.JobDetailView.as_view(), name="api-job-detail"),
]
