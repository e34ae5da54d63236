"""The billing page: connections, their webhook URLs and the events received."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from billing import connections, processing, selectors
from billing.forms import ConnectionCreateForm, SecretRotateForm
from billing.models import BillingConnection, BillingEvent
from tenancy.confirmation import Question, ask_unless_confirmed
from tenancy.errors import DomainError
from tenancy.permissions import editor_required, page_permissions, staff_required
from tenancy.shortcuts import get_for_tenant_or_404

logger = logging.getLogger(__name__)

# Events shown on the page; the API lists all of them.
PAGE_EVENTS = 200


def _render(request, form: ConnectionCreateForm, *, status: int = 200):
    status_filter = request.GET.get("status", "")
    if status_filter not in BillingEvent.Status.values:
        status_filter = ""
    rows = list(selectors.connection_list())
    for connection in rows:
        connection.webhook_url = selectors.connection_webhook_url(request, connection)
    context = {
        "connections": rows,
        "events": selectors.event_list(status=status_filter or None)[:PAGE_EVENTS],
        "statuses": BillingEvent.Status.choices,
        "status_filter": status_filter,
        "form": form,
        "rotate_form": SecretRotateForm(),
        **page_permissions(request.membership),
    }
    return render(request, "billing/billing.html", context, status=status)


@staff_required
def billing_overview(request):
    return _render(request, ConnectionCreateForm())


@editor_required
@require_POST
def connection_create(request):
    form = ConnectionCreateForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400)
    try:
        connection = connections.billing_connection_create(
            tenant=request.tenant, actor=request.user, **form.cleaned_data
        )
    except DomainError as error:
        logger.info(
            "billing_connection.create_rejected tenant_id=%s field=%s error=%s",
            request.tenant.pk,
            error.field,
            error.message,
        )
        field = error.field if error.field in form.fields else None
        form.add_error(field, f"{error.message} {error.fix}".strip())
        return _render(request, form, status=400)
    messages.success(
        request,
        f"Created the connection '{connection.name}'. Add its webhook URL to the provider.",
    )
    return redirect("billing:overview")


@editor_required
@require_POST
def connection_rotate(request, pk: int):
    connection = get_for_tenant_or_404(BillingConnection, pk=pk)
    form = SecretRotateForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(e)}" for name, e in form.errors.items())
        messages.error(request, f"The secret was not rotated. {errors}")
        return redirect("billing:overview")
    try:
        connections.billing_connection_rotate(
            connection_id=connection.pk, actor=request.user, **form.cleaned_data
        )
    except DomainError as error:
        logger.info(
            "billing_connection.rotate_rejected tenant_id=%s connection_id=%s field=%s",
            request.tenant.pk,
            connection.pk,
            error.field,
        )
        messages.error(request, f"{error.message} {error.fix}")
    else:
        messages.success(request, f"Rotated the signing secret of '{connection.name}'.")
    return redirect("billing:overview")


@editor_required
@require_POST
def connection_deactivate(request, pk: int):
    connection = get_for_tenant_or_404(BillingConnection, pk=pk)
    question = Question(
        f"Deactivate the billing connection '{connection.name}'?",
        "Its webhook URL answers 404 from then on, so the provider's events stop arriving. "
        "Events already received stay as they are.",
        "Deactivate connection",
    )
    if page := ask_unless_confirmed(request, question, cancel_url=reverse("billing:overview")):
        return page
    connections.billing_connection_deactivate(connection_id=connection.pk, actor=request.user)
    messages.success(request, f"Deactivated '{connection.name}': its URL now returns 404.")
    return redirect("billing:overview")


@editor_required
@require_POST
def event_retry(request, pk: int):
    event = get_for_tenant_or_404(BillingEvent, pk=pk)
    try:
        processing.billing_event_retry(billing_event_id=event.pk, actor=request.user)
    except DomainError as error:
        logger.info(
            "billing_event.retry_rejected tenant_id=%s billing_event_id=%s status=%s",
            request.tenant.pk,
            event.pk,
            event.status,
        )
        messages.error(request, f"{error.message} {error.fix}")
    else:
        messages.success(request, f"Queued event {event.event_id} for processing again.")
    return redirect("billing:overview")
