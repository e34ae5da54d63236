"""The fraud review page: signals with their evidence and held amounts, and the review forms."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from attribution.fraud import review, selectors
from attribution.fraud.forms import ConfirmForm, DismissForm, FraudSignalFilterForm
from attribution.fraud.rules.base import plural
from attribution.fraud.signals import REFERRAL_KINDS
from attribution.models import FraudSignal
from tenancy.confirmation import Question, ask_unless_confirmed
from tenancy.errors import DomainError
from tenancy.permissions import editor_required, page_permissions, staff_required
from tenancy.shortcuts import get_for_tenant_or_404

logger = logging.getLogger(__name__)

SIGNALS_PER_PAGE = 25


def _scope(kind: str) -> str:
    """Return which pending entries a signal of `kind` holds, in the words of the page."""
    if kind in REFERRAL_KINDS:
        return "the partner's entries on this company's deals"
    if kind == FraudSignal.Kind.CLICK_FLOOD:
        return "the partner's entries on deals reached through the flooded clicks"
    return "all of the partner's entries"


@staff_required
def signal_list(request):
    form = FraudSignalFilterForm(request.GET)
    # An invalid filter value shows every signal along with the form error.
    filters = form.cleaned_data if form.is_valid() else {}
    partner = filters.get("partner")
    signals = selectors.fraud_signal_list(
        status=filters.get("status") or None,
        kind=filters.get("kind") or None,
        partner_id=partner.pk if partner else None,
    )
    page = Paginator(signals, SIGNALS_PER_PAGE).get_page(request.GET.get("page"))
    on_page = list(page.object_list)
    amounts = selectors.held_amounts(on_page)

    context = {
        "form": form,
        "page": page,
        "rows": [
            {
                "signal": signal,
                "held": amounts.get(signal.pk, []),
                "scope": _scope(signal.kind),
            }
            for signal in on_page
        ],
        "filtered": any(filters.values()),
        "open_count": selectors.open_signal_count(),
        **page_permissions(request.membership),
    }
    return render(request, "fraud/signal_list.html", context)


def _back_to_list(request):
    """Redirect to the list URL the form came from, with its filters, or to the plain list."""
    target = request.POST.get("next", "")
    list_url = reverse("fraud:signal_list")
    if target.startswith(list_url) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return redirect(target)
    return redirect(list_url)


def _review_rejected(signal: FraudSignal, action: str, error: DomainError) -> None:
    logger.info(
        "fraud_signal.review_rejected tenant_id=%s signal_id=%s action=%s error=%s",
        signal.tenant_id,
        signal.pk,
        action,
        error.message,
    )


def _form_error(form) -> str:
    return " ".join(error for errors in form.errors.values() for error in errors)


@editor_required
@require_POST
def signal_dismiss(request, pk: int):
    signal = get_for_tenant_or_404(FraudSignal, pk=pk)
    form = DismissForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Signal {signal.pk} was not dismissed: {_form_error(form)}")
        return _back_to_list(request)

    try:
        dismissed = review.fraud_signal_dismiss(
            signal=signal, actor=request.user, note=form.cleaned_data["note"]
        )
    except DomainError as error:
        _review_rejected(signal, "dismiss", error)
        messages.error(request, f"{error.message} {error.fix}".strip())
        return _back_to_list(request)

    released = dismissed.details.get("review_outcome", {}).get("entries", 0)
    messages.success(
        request,
        f"Dismissed signal {dismissed.pk}: {plural(released, 'held entry', 'held entries')} "
        "went back to pending.",
    )
    return _back_to_list(request)


@editor_required
@require_POST
def signal_confirm(request, pk: int):
    signal = get_for_tenant_or_404(FraudSignal, pk=pk)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Signal {signal.pk} was not confirmed: {_form_error(form)}")
        return _back_to_list(request)
    question = Question(
        f"Confirm fraud signal {signal.pk}?",
        "Its held entries are voided and its registration is rejected, which removes the "
        "partner's credit from deals not yet booked. This cannot be undone.",
        "Confirm fraud",
    )
    if page := ask_unless_confirmed(request, question, cancel_url=reverse("fraud:signal_list")):
        return page

    try:
        confirmed = review.fraud_signal_confirm(
            signal=signal, actor=request.user, note=form.cleaned_data["note"]
        )
    except DomainError as error:
        _review_rejected(signal, "confirm", error)
        messages.error(request, f"{error.message} {error.fix}".strip())
        return _back_to_list(request)

    voided = confirmed.details.get("review_outcome", {}).get("entries", 0)
    messages.success(
        request,
        f"Confirmed signal {confirmed.pk}: {plural(voided, 'held entry', 'held entries')} voided.",
    )
    return _back_to_list(request)
