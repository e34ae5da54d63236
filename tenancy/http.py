"""Error responses that depend on whether the request was for the API or a page."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults


def page_not_found(request, exception):
    """Return the API's JSON 404 body under /api/, and the HTML 404 page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "code": "not_found",
                "message": f"No API endpoint or object at {request.path}.",
                "fix": "See /api/schema/ for the endpoints and their id formats.",
            },
            status=404,
        )
    return defaults.page_not_found(request, exception)


def server_error(request):
    """Return the API's JSON 500 body under /api/, and the HTML 500 page elsewhere.

    API views handle their own exceptions (tenancy.api.errors), so this runs for
    failures outside them, such as in middleware.
    """
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "code": "server_error",
                "message": "The server failed to handle the request.",
                "fix": "Retry later; if it fails again, report the time and path to the "
                "operator, who finds the cause in the server log.",
            },
            status=500,
        )
    return defaults.server_error(request)


# Paths whose callers are programs, which get JSON error bodies.
JSON_PREFIXES = ("/api/", "/billing/")


def bad_request(request, exception):
    """Return a JSON 400 body under /api/ and the billing webhooks, such as for a body
    over the upload limit."""
    if not request.path.startswith(JSON_PREFIXES):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return JsonResponse(
            {
                "code": "too_large",
                "message": f"The request body is larger than {limit:,} bytes.",
                "field": "body",
                "value": None,
                "fix": "Send less data per request, or upload CSV files to /api/v1/imports/.",
            },
            status=400,
        )
    return JsonResponse(
        {
            "code": "bad_request",
            "message": "The request could not be read.",
            "fix": "Check the body, its Content-Type and the headers.",
        },
        status=400,
    )


def client_address(meta) -> str:
    """Return the client's IP address from a request's META.

    With TRACK360_TRUSTED_PROXIES set to N, the server sits behind N reverse proxies
    that each append the address they saw to X-Forwarded-For, so the client is the
    Nth entry from the right. Entries further left were sent by the client and are
    not trusted. With N = 0 (the default) the address is REMOTE_ADDR.
    """
    proxies = settings.TRACK360_TRUSTED_PROXIES
    if proxies:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return meta.get("REMOTE_ADDR", "")
