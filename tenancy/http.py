"""Error responses that depend on whether the request was for the API or a page."""

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
