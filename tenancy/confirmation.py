"""Confirmation before destructive actions, with or without JavaScript.

A destructive form carries `data-confirm`, so static/js/confirm.js shows a dialog
and adds `confirmed=1` before the form is sent. Without JavaScript the form is
sent as it is. The view finds no `confirmed` field and returns a page with the
same question, which posts the same fields again with `confirmed=1`. The view
loads its object (a 404 for another tenant's) before it renders that page, so the
page never shows what the user may not see.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRMED_FIELD = "confirmed"
# Fields of the original form that the confirmation page does not post again.
_NOT_REPOSTED = {"csrfmiddlewaretoken", CONFIRMED_FIELD}


@dataclass(frozen=True)
class Question:
    """The confirmation question of a destructive action."""

    # The question, naming the object, such as "Revoke the API key 'CRM sync'?".
    text: str
    # The effect of the action and whether it can be undone, in a sentence or two.
    consequence: str
    # The label of the button that goes ahead.
    button: str


def is_confirmed(request: HttpRequest) -> bool:
    """Return whether the POST contains the user's confirmation of the action."""
    return request.POST.get(CONFIRMED_FIELD) == "1"


def ask_unless_confirmed(
    request: HttpRequest, question: Question, *, cancel_url: str
) -> HttpResponse | None:
    """Return the page with `question`, or None once the POST confirms the action.

    The page posts the request's fields again, with `confirmed=1`, to the same URL.
    """
    if is_confirmed(request):
        return None
    fields = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in _NOT_REPOSTED
        for value in values
    ]
    context = {
        "question": question,
        "cancel_url": cancel_url,
        "fields": fields,
        "action": request.get_full_path(),
    }
    return render(request, "includes/confirm.html", context)
