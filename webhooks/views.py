"""The webhooks pages: the delivery log with replay, and endpoint management.

Staff read every page; only admins create, change, test or delete endpoints and
rotate their secrets.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tenancy.errors import Conflict, DomainError
from tenancy.models import Membership
from tenancy.permissions import (
    editor_required,
    has_role,
    page_permissions,
    role_required,
    staff_required,
)
from webhooks import selectors, services
from webhooks.forms import DeliveryFilterForm, EndpointForm
from webhooks.models import WebhookDelivery

logger = logging.getLogger(__name__)

DELIVERIES_PER_PAGE = 50
# Roles that may create, change, test and delete endpoints and rotate their secrets.
ENDPOINT_ADMIN_ROLES = (Membership.Role.ADMIN,)
endpoint_admin_required = role_required(*ENDPOINT_ADMIN_ROLES)


@staff_required
def delivery_list(request):
    form = DeliveryFilterForm(request.GET)
    # An invalid filter value shows every delivery along with the form error.
    filters = form.cleaned_data if form.is_valid() else {}
    endpoint = filters.get("endpoint")
    deliveries = selectors.delivery_list(
        endpoint_id=endpoint.pk if endpoint else None,
        status=filters.get("status") or None,
        event_type=filters.get("type") or None,
    )
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "endpoints": list(selectors.endpoint_list()),
        "filtered": any(filters.values()),
        "can_manage_endpoints": has_role(request.membership, ENDPOINT_ADMIN_ROLES),
        **page_permissions(request.membership),
    }
    return render(request, "webhooks/delivery_list.html", context)


@editor_required
@require_POST
def delivery_replay(request, pk: int):
    delivery = selectors.delivery_get(pk=pk)
    services.delivery_replay(tenant=request.tenant, delivery_id=delivery.pk, actor=request.user)
    messages.success(
        request,
        f"Delivery {delivery.pk} of {delivery.event.type} to {delivery.endpoint.url} "
        "is scheduled to be sent now.",
    )
    target = request.POST.get("next", "")
    list_url = reverse("webhooks:delivery_list")
    if target.startswith(list_url) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return redirect(target)
    return redirect(list_url)


def _service_error_add(form: EndpointForm, error: DomainError) -> None:
    """Show a service's rejection next to the field it names, with a fix for this page."""
    message = f"{error.message} {error.fix}".strip()
    if isinstance(error, Conflict) and error.field == "url":
        message = f"{error.message} Open that endpoint from the webhooks page and edit it."
    field = error.field if error.field in form.fields else None
    form.add_error(field, message)


def _render_endpoint_form(request, form, *, endpoint=None, status=200):
    context = {
        "form": form,
        "endpoint": endpoint,
        "can_manage_endpoints": has_role(request.membership, ENDPOINT_ADMIN_ROLES),
    }
    return render(request, "webhooks/endpoint_form.html", context, status=status)


def _render_secret(request, endpoint, secret: str, *, rotated: bool):
    context = {"endpoint": endpoint, "secret": secret, "rotated": rotated}
    return render(request, "webhooks/endpoint_secret.html", context)


@never_cache
@endpoint_admin_required
@require_http_methods(["GET", "POST"])
def endpoint_create(request):
    if request.method == "GET":
        return _render_endpoint_form(request, EndpointForm())
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _render_endpoint_form(request, form, status=400)
    try:
        endpoint, secret = services.endpoint_create(
            tenant=request.tenant,
            url=form.cleaned_data["url"],
            event_types=form.cleaned_data["event_types"],
            description=form.cleaned_data["description"],
            is_active=form.cleaned_data["is_active"],
            actor=request.user,
        )
    except DomainError as error:
        logger.info(
            "webhooks.endpoint_create_rejected tenant_id=%s field=%s",
            request.tenant.pk,
            error.field,
        )
        _service_error_add(form, error)
        return _render_endpoint_form(request, form, status=error.status_code)

    # Rendered instead of redirected: the secret is in no later response.
    return _render_secret(request, endpoint, secret, rotated=False)


@staff_required
@require_http_methods(["GET", "POST"])
def endpoint_detail(request, pk: int):
    endpoint = selectors.endpoint_get(pk=pk)
    if request.method == "GET":
        initial = {
            "url": endpoint.url,
            "event_types": endpoint.event_types,
            "description": endpoint.description,
            "is_active": endpoint.is_active,
        }
        return _render_endpoint_form(request, EndpointForm(initial=initial), endpoint=endpoint)
    if not has_role(request.membership, ENDPOINT_ADMIN_ROLES):
        raise PermissionDenied(
            f"Your role '{request.membership.get_role_display()}' may read webhook endpoints "
            "but not change them: ask a tenant admin."
        )

    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _render_endpoint_form(request, form, endpoint=endpoint, status=400)
    try:
        services.endpoint_update(
            tenant=request.tenant,
            endpoint_id=endpoint.pk,
            changes=dict(form.cleaned_data),
            actor=request.user,
        )
    except DomainError as error:
        logger.info(
            "webhooks.endpoint_update_rejected tenant_id=%s endpoint_id=%s field=%s",
            request.tenant.pk,
            endpoint.pk,
            error.field,
        )
        _service_error_add(form, error)
        return _render_endpoint_form(request, form, endpoint=endpoint, status=error.status_code)

    messages.success(request, f"Saved the endpoint {form.cleaned_data['url']}.")
    return redirect("webhooks:delivery_list")


@never_cache
@endpoint_admin_required
@require_http_methods(["GET", "POST"])
def endpoint_rotate_secret(request, pk: int):
    endpoint = selectors.endpoint_get(pk=pk)
    if request.method == "GET":
        return render(request, "webhooks/endpoint_rotate.html", {"endpoint": endpoint})
    endpoint, secret = services.endpoint_secret_rotate(
        tenant=request.tenant, endpoint_id=endpoint.pk, actor=request.user
    )
    return _render_secret(request, endpoint, secret, rotated=True)


@endpoint_admin_required
@require_http_methods(["GET", "POST"])
def endpoint_delete(request, pk: int):
    endpoint = selectors.endpoint_get(pk=pk)
    if request.method == "GET":
        unsent = endpoint.deliveries.filter(
            status__in=(WebhookDelivery.Status.PENDING, WebhookDelivery.Status.FAILED)
        ).count()
        context = {"endpoint": endpoint, "unsent": unsent}
        return render(request, "webhooks/endpoint_delete.html", context)
    services.endpoint_delete(tenant=request.tenant, endpoint_id=endpoint.pk, actor=request.user)
    messages.success(request, f"Deleted the endpoint {endpoint.url} and its deliveries.")
    return redirect("webhooks:delivery_list")


@endpoint_admin_required
@require_POST
def endpoint_test(request, pk: int):
    endpoint = selectors.endpoint_get(pk=pk)
    delivery = services.endpoint_test(
        tenant=request.tenant, endpoint_id=endpoint.pk, actor=request.user
    )
    if delivery.status == WebhookDelivery.Status.SUCCEEDED:
        messages.success(
            request,
            f"Sent a test event to {endpoint.url}: it answered HTTP {delivery.last_status_code}.",
        )
    else:
        messages.error(
            request,
            f"The test event to {endpoint.url} failed: "
            f"{delivery.last_error or f'HTTP {delivery.last_status_code}.'} "
            "The delivery is listed below with its schedule of retries.",
        )
    return redirect(f"{reverse('webhooks:delivery_list')}?endpoint={endpoint.pk}")
