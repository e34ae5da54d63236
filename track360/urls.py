"""URL routes: dashboard pages, the REST API under /api/v1/, OpenAPI and health."""

from allauth.account import views as account_views
from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from attribution.redirect import link_redirect
from billing.webhooks import billing_webhook
from partners import application_views
from track360 import health

api_v1 = [
    path("", include("crm.api.urls")),
    path("", include("partners.api.urls")),
    path("", include("attribution.api.urls")),
    path("", include("commissions.api.urls")),
    path("", include("icp.api.urls")),
    path("", include("jobs.api.urls")),
    path("", include("attribution.fraud.api.urls")),
    path("", include("tenancy.api.urls")),
    path("", include("webhooks.api.urls")),
    path("", include("billing.api.urls")),
]

handler400 = "tenancy.http.bad_request"
handler404 = "tenancy.http.page_not_found"
handler500 = "tenancy.http.server_error"

# The admin's own log-in form would skip two-factor authentication and the log-in
# rate limits, so it sends visitors through the site's log-in page instead.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # allauth's log-in: username or e-mail address, then the 2FA code when it is on.
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Invited partner users choose their first password here.
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # allauth: the two-factor pages under auth/2fa/ and the steps its log-in uses.
    path("auth/", include("allauth.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("reporting.urls")),
    path("accounts/", include("crm.urls")),
    path("icp/", include("icp.urls")),
    path("partners/", include("partners.urls")),
    path("ledger/", include("commissions.urls")),
    path("settings/", include("tenancy.urls")),
    path("jobs/", include("jobs.urls")),
    path("apply/<slug:slug>/", application_views.apply, name="partner_apply"),
    path("apply/<slug:slug>/", include("partners.signup_urls")),
    path("fraud/", include("attribution.fraud.urls")),
    path("attribution/", include("attribution.urls")),
    path("webhooks/", include("webhooks.urls")),
    path("r/<str:code>", link_redirect, name="link_redirect"),
    path("billing/<slug:provider>/<str:token>/", billing_webhook, name="billing_webhook"),
    path("billing/", include("billing.urls")),
]
