"""Routes of the applicant sign-up link, under /apply/<tenant slug>/."""

from django.urls import path

from partners import signup_views

urlpatterns = [
    path("confirm/<str:key>/", signup_views.signup_confirm, name="partner_signup_confirm"),
    path("new-link/", signup_views.signup_link_request, name="partner_signup_resend"),
]
