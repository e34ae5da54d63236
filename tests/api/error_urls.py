"""The API routes plus one view that fails unexpectedly, for the 500 error body."""

from django.urls import include, path

from tenancy.api.views import TenantApiView


class FailingView(TenantApiView):
    # A group the demo key's scopes cover, so the request reaches the handler.
    scope_group = "crm"

    def get(self, request):
        raise RuntimeError("stored detail that must not leak")


urlpatterns = [
    path("api/v1/failing/", FailingView.as_view()),
    path("", include("track360.urls")),
]
