"""Pages of payouts and entry approval: the payout list, statements, and the portal's own."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from commissions import approval, payouts, selectors
from commissions.models import LedgerEntry, Payout
from partners.views import _portal_partner
from tenancy.confirmation import Question, ask_unless_confirmed
from tenancy.errors import DomainError
from tenancy.permissions import (
    editor_required,
    page_permissions,
    partner_user_required,
    staff_required,
)
from tenancy.shortcuts import get_for_tenant_or_404


@staff_required
def payout_list(request):
    return _render_payouts(request)


def _render_payouts(request, *, prepare_text: str = "", prepare_error: str = ""):
    """Render the payout list; a bad filter or prepare period is shown at its field (400)."""
    period = None
    filter_text = request.GET.get("period", "")
    filter_error = ""
    if filter_text:
        try:
            period = payouts.period_parse(filter_text)
        except DomainError as error:
            filter_error = f"{error.message} {error.fix}"
    context = {
        "payouts": selectors.payout_list(period_start=period.start if period else None)[:500],
        "period": period,
        "filter_text": filter_text,
        "filter_error": filter_error,
        "prepare_text": prepare_text or payouts.period_previous(request.tenant).label,
        "prepare_error": prepare_error,
        **page_permissions(request.membership),
    }
    status = 400 if filter_error or prepare_error else 200
    return render(request, "commissions/payout_list.html", context, status=status)


def _statement_context(payout: Payout) -> dict:
    carried = payout.status == Payout.Status.CARRIED_OVER
    entries = (
        selectors.payout_carried_entries(payout) if carried else selectors.payout_entries(payout)
    )
    return {"payout": payout, "entries": list(entries), "carried": carried}


@staff_required
def payout_detail(request, pk: int):
    payout = get_for_tenant_or_404(selectors.payout_list(), pk=pk)
    context = {**_statement_context(payout), **page_permissions(request.membership)}
    return render(request, "commissions/payout_detail.html", context)


@editor_required
@require_POST
def payout_prepare(request):
    text = request.POST.get("period", "")
    try:
        period = payouts.period_parse(text)
        added = payouts.payouts_prepare(tenant=request.tenant, period=period, actor=request.user)
    except DomainError as error:
        return _render_payouts(
            request, prepare_text=text, prepare_error=f"{error.message} {error.fix}"
        )
    if added:
        messages.success(
            request,
            f"Prepared {len(added)} payout{'s' if len(added) != 1 else ''} for {period.label}. "
            "Each needs a second staff member's approval before it is paid.",
        )
    else:
        messages.info(
            request,
            f"Nothing new to prepare for {period.label}: every approved entry booked by the end "
            "of that month is in a payout already, or none is approved yet. Approve entries "
            "on the ledger first.",
        )
    return redirect(f"{reverse('commissions:payout_list')}?period={period.label}")


def _payout_step(
    request,
    pk: int,
    step,
    done: str,
    *,
    ask: Question | None = None,
    reached: str | None = None,
):
    """Run `step` on the payout; a payout already in status `reached` is left as it is."""
    payout = get_for_tenant_or_404(Payout, pk=pk)
    if reached is not None and payout.status == reached:
        messages.info(
            request,
            f"This payout was already marked {payout.get_status_display().lower()}, so "
            "nothing changed.",
        )
        return redirect("commissions:payout_detail", pk=payout.pk)
    if ask and (
        page := ask_unless_confirmed(
            request, ask, cancel_url=reverse("commissions:payout_detail", args=[payout.pk])
        )
    ):
        return page
    try:
        step(payout_id=payout.pk, actor=request.user)
    except DomainError as error:
        messages.error(request, f"{error.message} {error.fix}")
    else:
        messages.success(request, done)
    return redirect("commissions:payout_detail", pk=payout.pk)


@editor_required
@require_POST
def payout_approve(request, pk: int):
    return _payout_step(request, pk, payouts.payout_approve, "Approved the payout.")


@editor_required
@require_POST
def payout_mark_paid(request, pk: int):
    return _payout_step(
        request,
        pk,
        payouts.payout_mark_paid,
        "Marked the payout paid; its entries are paid.",
        ask=Question(
            "Mark this payout paid?",
            "Its entries become paid and appear as paid on the partners' statements. "
            "This cannot be undone; a mistake is corrected with an adjustment.",
            "Mark paid",
        ),
        reached=Payout.Status.PAID,
    )


def _entry_step(request, pk: int, status: str, *, ask: Question | None = None):
    entry = get_for_tenant_or_404(LedgerEntry, pk=pk)
    if ask and (
        page := ask_unless_confirmed(request, ask, cancel_url=reverse("commissions:ledger_list"))
    ):
        return page
    try:
        approval.entry_status_set(entry_id=entry.pk, status=status, actor=request.user)
    except DomainError as error:
        messages.error(request, f"{error.message} {error.fix}")
    else:
        messages.success(request, f"Entry {entry.pk} is now {status}.")
    return redirect("commissions:ledger_list")


@editor_required
@require_POST
def entry_approve(request, pk: int):
    return _entry_step(request, pk, LedgerEntry.Status.APPROVED)


@editor_required
@require_POST
def entry_void(request, pk: int):
    return _entry_step(
        request,
        pk,
        LedgerEntry.Status.VOID,
        ask=Question(
            f"Void ledger entry {pk}?",
            "It stops counting towards the partner's commission and is never paid. The "
            "ledger keeps it as void, and this cannot be undone.",
            "Void entry",
        ),
    )


@partner_user_required
def portal_statement(request, pk: int):
    """One of the partner's own statements; another partner's is a 404."""
    partner = _portal_partner(request)
    payout = get_for_tenant_or_404(selectors.payout_list(partner_id=partner.pk), pk=pk)
    return render(request, "commissions/portal_statement.html", _statement_context(payout))
