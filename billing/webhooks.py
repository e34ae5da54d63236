"""The public webhook endpoint that billing providers post events to."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.receiving import billing_event_receive
from tenancy.errors import DomainError


@csrf_exempt
@require_POST
def billing_webhook(request, provider: str, token: str):
    """Store one signed event and return 200 at once; processing runs in the worker.

    The URL's token names the tenant, so the request needs no login or CSRF token.
    Unknown URLs return 404 and bad signatures 400, which make the provider retry;
    a duplicate returns 200 so the provider stops.
    """
    try:
        receipt = billing_event_receive(provider=provider, token=token, request=request)
    except DomainError as error:
        return JsonResponse(error.as_dict(), status=error.status_code)
    return JsonResponse(
        {
            "received": True,
            "duplicate": receipt.duplicate,
            "status": receipt.event.status,
        }
    )
