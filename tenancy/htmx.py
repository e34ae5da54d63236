"""A view decorator for htmx requests: redirects that must load a whole page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django_htmx.http import HttpResponseClientRedirect


def htmx_full_page_redirect(view: Callable) -> Callable:
    """Convert a redirect returned to an htmx request into a redirect of the whole page.

    The browser follows a plain redirect inside the htmx request, so htmx would
    swap the login page (for an expired session) or the partner portal into the
    dashboard. An HX-Redirect header makes htmx load that page in the window instead.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.htmx and response.status_code in (301, 302, 303, 307, 308):
            return HttpResponseClientRedirect(response["Location"])
        return response

    return wrapped
