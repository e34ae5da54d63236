"""Confirmation before destructive actions, with or without JavaScript.

A destructive form carries `data-confirm`; static/js/confirm.js asks in a dialog
and adds `confirmed=1` before the form is sent. Without JavaScript the form is
sent as it is, the view sees no `confirmed` field and answers with a page that
asks the same question and posts the same fields again with `confirmed=1`. The
view loads its object (a 404 for another tenant's) before asking, so the page
never shows what the user may not see.
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
    """What a destructive action asks before it goes ahead."""

    # The question, naming the object, such as "Revoke the API key 'CRM sync'?".
    text: str
    # What changes, and whether it can be undone, in a sentence or two.
    consequence: str
    # The label of the button that goes ahead.
    button: str


def is_confirmed(request: HttpRequest) -> bool:
    """Return whether the POST says the user confirmed the action."""
    return request.POST.get(CONFIRMED_FIELD) == "1"


def ask_unless_confirmed(
    request: HttpRequest, question: Question, *, cancel_url: str
) -> HttpResponse | None:
    """Return the page that asks `question`, or None once the POST confirms the action.

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
