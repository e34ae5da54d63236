"""The public redirect of tracking links: /r/<code>, without login or tenant session.

A cached link redirects without any database query. The click goes to the Redis
queue (`attribution.clicks`), and the worker writes it, so a burst of visitors
costs the database nothing while they wait.
"""

from __future__ import annotations

from django.http import Http404, HttpResponseRedirect
from django.views.decorators.http import require_safe

from attribution.clicks import (
    COOKIE_MAX_AGE_SECONDS,
    COOKIE_NAME,
    VISITOR_ID,
    click_enqueue,
    click_record,
    destination_url,
    visitor_id_new,
)
from attribution.links import link_for_code


@require_safe
def link_redirect(request, code: str):
    """Redirect to the link's destination (302), set the visitor cookie and queue the click.

    An unknown or inactive code gets the 404 page and no cookie. HEAD requests,
    which link previews send, redirect without counting a click.
    """
    link = link_for_code(code)
    if link is None:
        raise Http404("No active tracking link has this code.")

    visitor_id = request.COOKIES.get(COOKIE_NAME, "")
    new_visitor = not VISITOR_ID.match(visitor_id)
    if new_visitor:
        visitor_id = visitor_id_new()

    response = HttpResponseRedirect(destination_url(link.destination, request.GET, visitor_id))
    # Each visit must reach this view to be counted, so nothing may cache the redirect.
    response["Cache-Control"] = "no-store"
    if new_visitor:
        response.set_cookie(
            COOKIE_NAME,
            visitor_id,
            max_age=COOKIE_MAX_AGE_SECONDS,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    if request.method == "GET":
        click_enqueue(click_record(link=link, visitor_id=visitor_id, meta=request.META))
    return response
