"""The webhook delivery log page and its replay action."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tenancy.permissions import editor_required, page_permissions, staff_required
from webhooks import selectors, services
from webhooks.forms import DeliveryFilterForm

logger = logging.getLogger(__name__)

DELIVERIES_PER_PAGE = 50


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
