"""Pages of market development funds: staff budgets and decisions, and the partner's own."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from commissions import mdf, mdf_allocation, mdf_budgets, mdf_selectors
from commissions.mdf_budgets import TIER_WEIGHT_FIELDS
from commissions.mdf_forms import MdfBudgetForm, MdfClaimForm, MdfRequestForm, MdfStaffRequestForm
from commissions.mdf_models import MdfBudget, MdfProof, MdfRequest
from partners.models import Partner
from partners.views import _portal_partner
from tenancy.confirmation import Question, ask_unless_confirmed
from tenancy.errors import DomainError
from tenancy.form_errors import form_error_add
from tenancy.permissions import (
    editor_required,
    page_permissions,
    partner_user_required,
    staff_required,
)
from tenancy.shortcuts import get_for_tenant_or_404

logger = logging.getLogger(__name__)


def _error(request, error: DomainError) -> None:
    messages.error(request, f"{error.message} {error.fix}")


def _budget_defaults(tenant) -> dict:
    return {
        "period": mdf_budgets.mdf_period_current(tenant).label,
        "lookback_months": 12,
        **{name: MdfBudget._meta.get_field(name).default for name in TIER_WEIGHT_FIELDS},
    }


@staff_required
def mdf_budget_list(request):
    context = {
        "budgets": mdf_selectors.mdf_budget_list()[:200],
        "form": MdfBudgetForm(initial=_budget_defaults(request.tenant)),
        **page_permissions(request.membership),
    }
    return render(request, "commissions/mdf_budget_list.html", context)


@editor_required
@require_POST
def mdf_budget_set(request):
    form = MdfBudgetForm(request.POST)
    if not form.is_valid():
        context = {
            "budgets": mdf_selectors.mdf_budget_list()[:200],
            "form": form,
            **page_permissions(request.membership),
        }
        return render(request, "commissions/mdf_budget_list.html", context, status=400)
    data = form.cleaned_data
    try:
        budget, created = mdf_budgets.mdf_budget_set(
            tenant=request.tenant,
            period=mdf_budgets.mdf_period_parse(data["period"]),
            amount=data["amount"],
            lookback_months=data["lookback_months"],
            weights={name: data[name] for name in TIER_WEIGHT_FIELDS},
            actor=request.user,
        )
    except DomainError as error:
        form_error_add(form, error)
        context = {
            "budgets": mdf_selectors.mdf_budget_list()[:200],
            "form": form,
            **page_permissions(request.membership),
        }
        return render(request, "commissions/mdf_budget_list.html", context, status=400)
    messages.success(
        request, f"{'Set' if created else 'Saved'} the MDF budget of {budget.period_label}."
    )
    return redirect("commissions:mdf_budget_detail", pk=budget.pk)


def _request_form_for(budget: MdfBudget, data=None) -> MdfStaffRequestForm:
    partners = [
        (row.partner_id, row.partner.name)
        for row in mdf_selectors.mdf_allocation_list(budget_id=budget.pk)
        if row.amount > 0
    ]
    return MdfStaffRequestForm(
        data,
        periods=[budget.period_label],
        partners=partners,
        initial={"period": budget.period_label},
    )


@staff_required
def mdf_budget_detail(request, pk: int):
    return _budget_detail_render(request, get_for_tenant_or_404(MdfBudget, pk=pk))


def _budget_detail_render(request, budget: MdfBudget, request_form=None, status: int = 200):
    allocations = list(mdf_selectors.mdf_allocation_list(budget_id=budget.pk))
    context = {
        "budget": budget,
        "allocations": allocations,
        "totals": mdf_selectors.mdf_spend_totals(allocations),
        "requests": mdf_selectors.mdf_request_list(budget_id=budget.pk)[:500],
        "request_form": request_form or _request_form_for(budget),
        "allocation_fixed": mdf_allocation.approved_spend_exists(budget),
        **page_permissions(request.membership),
    }
    return render(request, "commissions/mdf_budget_detail.html", context, status=status)


@editor_required
@require_POST
def mdf_budget_allocate(request, pk: int):
    budget = get_for_tenant_or_404(MdfBudget, pk=pk)
    try:
        rows = mdf_allocation.mdf_allocate(budget_id=budget.pk, actor=request.user)
    except DomainError as error:
        _error(request, error)
    else:
        messages.success(request, f"Allocated the budget across {len(rows)} active partners.")
    return redirect("commissions:mdf_budget_detail", pk=budget.pk)


def _submit_from_form(request, form, partner: Partner) -> MdfRequest | None:
    """Submit the form's request; on a rejection, add the error to its field and return None."""
    data = form.cleaned_data
    period = mdf_budgets.mdf_period_parse(data["period"])
    budget = MdfBudget.objects.filter(period_kind=period.kind, period_start=period.start).first()
    if budget is None:
        form.add_error("period", f"No MDF budget is set for {period.label}. Choose another period.")
        return None
    try:
        submitted, _ = mdf.mdf_request_submit(
            partner=partner,
            budget=budget,
            idempotency_key=data["idempotency_key"],
            title=data["title"],
            description=data["description"],
            activity_type=data["activity_type"],
            planned_start=data["planned_start"],
            planned_end=data["planned_end"],
            requested_amount=data["requested_amount"],
            actor=request.user,
        )
    except DomainError as error:
        form_error_add(form, error)
        return None
    return submitted


@editor_required
@require_POST
def mdf_request_create(request, pk: int):
    """Submit a request on a partner's behalf, in budget `pk`."""
    budget = get_for_tenant_or_404(MdfBudget, pk=pk)
    form = _request_form_for(budget, request.POST)
    if not form.is_valid():
        return _budget_detail_render(request, budget, request_form=form, status=400)
    partner = get_for_tenant_or_404(Partner, pk=form.cleaned_data["partner"])
    submitted = _submit_from_form(request, form, partner)
    if submitted is None:
        return _budget_detail_render(request, budget, request_form=form, status=400)
    messages.success(request, f"Submitted request {submitted.pk} for {partner.name}.")
    return redirect("commissions:mdf_request_detail", pk=submitted.pk)


@staff_required
def mdf_request_detail(request, pk: int):
    mdf_request = get_for_tenant_or_404(mdf_selectors.mdf_request_list(), pk=pk)
    context = {
        "mdf_request": mdf_request,
        "claim": mdf_selectors.mdf_request_claim(mdf_request),
        **page_permissions(request.membership),
    }
    return render(request, "commissions/mdf_request_detail.html", context)


def _request_step(request, pk: int, step, done: str, *, ask: Question | None = None, **fields):
    mdf_request = get_for_tenant_or_404(MdfRequest, pk=pk)
    cancel_url = reverse("commissions:mdf_request_detail", args=[mdf_request.pk])
    if ask and (page := ask_unless_confirmed(request, ask, cancel_url=cancel_url)):
        return page
    values = {name: request.POST.get(source, "").strip() for name, source in fields.items()}
    try:
        step(request_id=mdf_request.pk, actor=request.user, **_amounts(values))
    except DomainError as error:
        _error(request, error)
    else:
        messages.success(request, done)
    return redirect("commissions:mdf_request_detail", pk=mdf_request.pk)


def _amounts(values: dict) -> dict:
    """Turn amount fields into Decimal, leaving empty ones out so the service uses its default."""
    parsed = {}
    for name, value in values.items():
        if not name.endswith("_amount"):
            parsed[name] = value
        elif value:
            try:
                parsed[name] = Decimal(value)
            except InvalidOperation:
                raise DomainError(
                    f"The {name.replace('_', ' ')} {value!r} is not a number.",
                    field=name,
                    value=value,
                    fix="Enter an amount such as 1250.00.",
                ) from None
    return parsed


@editor_required
@require_POST
def mdf_request_approve(request, pk: int):
    return _request_step(
        request,
        pk,
        mdf.mdf_request_approve,
        "Approved the request.",
        approved_amount="approved_amount",
    )


@editor_required
@require_POST
def mdf_request_reject(request, pk: int):
    return _request_step(
        request,
        pk,
        mdf.mdf_request_reject,
        "Rejected the request.",
        ask=Question(
            "Reject this request for marketing funds?",
            "The partner sees it rejected with your reason. A rejected request cannot be "
            "reopened; the partner can send a new one.",
            "Reject request",
        ),
        reason="reason",
    )


@editor_required
@require_POST
def mdf_request_cancel(request, pk: int):
    return _request_step(
        request,
        pk,
        mdf.mdf_request_cancel,
        "Cancelled the request.",
        ask=Question(
            "Cancel this request for marketing funds?",
            "An approved amount goes back to the partner's allocation. A cancelled request "
            "cannot be reopened.",
            "Cancel request",
        ),
    )


@editor_required
@require_POST
def mdf_claim_accept(request, pk: int):
    return _request_step(
        request,
        pk,
        mdf.mdf_claim_accept,
        "Accepted the claim.",
        reimbursed_amount="reimbursed_amount",
    )


@editor_required
@require_POST
def mdf_claim_reject(request, pk: int):
    return _request_step(
        request,
        pk,
        mdf.mdf_claim_reject,
        "Rejected the claim.",
        ask=Question(
            "Reject this claim?",
            "Nothing is reimbursed for it, and the partner sees your reason.",
            "Reject claim",
        ),
        reason="reason",
    )


@editor_required
@require_POST
def mdf_claim_reimburse(request, pk: int):
    return _request_step(
        request,
        pk,
        mdf.mdf_claim_mark_reimbursed,
        "Marked the claim reimbursed.",
        payment_reference="payment_reference",
    )


def _proof_response(proof: MdfProof) -> FileResponse:
    return FileResponse(
        proof.file.open("rb"),
        as_attachment=True,
        filename=proof.original_name,
        content_type=proof.content_type,
    )


@staff_required
def mdf_proof(request, pk: int):
    return _proof_response(get_for_tenant_or_404(MdfProof, pk=pk))


def _portal_periods() -> list[str]:
    budgets = MdfBudget.objects.filter(status=MdfBudget.Status.ALLOCATED).order_by("-period_start")
    return [budget.period_label for budget in budgets]


@partner_user_required
def portal_mdf(request):
    """The partner's own allocations, spend and requests, and the form to request funds."""
    partner = _portal_partner(request)
    periods = _portal_periods()
    form = MdfRequestForm(periods=periods)
    status = 200
    if request.method == "POST":
        form = MdfRequestForm(request.POST, periods=periods)
        if form.is_valid():
            submitted = _submit_from_form(request, form, partner)
            if submitted is not None:
                messages.success(request, f"Submitted your request “{submitted.title}”.")
                return redirect("partners:portal_mdf_request", pk=submitted.pk)
        status = 400
    allocations = list(mdf_selectors.mdf_allocation_list(partner_id=partner.pk))
    context = {
        "partner": partner,
        "allocations": allocations,
        "requests": mdf_selectors.mdf_request_list(partner_id=partner.pk)[:200],
        "form": form,
    }
    return render(request, "commissions/portal_mdf.html", context, status=status)


@partner_user_required
def portal_mdf_request(request, pk: int):
    """One of the partner's own requests, and the claim upload once it is approved."""
    partner = _portal_partner(request)
    mdf_request = get_for_tenant_or_404(
        mdf_selectors.mdf_request_list(partner_id=partner.pk), pk=pk
    )
    form = MdfClaimForm()
    status = 200
    if request.method == "POST":
        form = MdfClaimForm(request.POST)
        if form.is_valid():
            try:
                mdf.mdf_claim_submit(
                    request_id=mdf_request.pk,
                    claimed_amount=form.cleaned_data["claimed_amount"],
                    files=request.FILES.getlist("files"),
                    notes=form.cleaned_data["notes"],
                    actor=request.user,
                )
            except DomainError as error:
                form_error_add(form, error)
                status = 400
            else:
                messages.success(request, "Submitted your claim.")
                return redirect("partners:portal_mdf_request", pk=mdf_request.pk)
        else:
            status = 400
    context = {
        "partner": partner,
        "mdf_request": mdf_request,
        "claim": mdf_selectors.mdf_request_claim(mdf_request),
        "form": form,
    }
    return render(request, "commissions/portal_mdf_request.html", context, status=status)


@partner_user_required
def portal_mdf_proof(request, pk: int):
    partner = _portal_partner(request)
    proofs = MdfProof.objects.filter(claim__request__partner_id=partner.pk)
    return _proof_response(get_for_tenant_or_404(proofs, pk=pk))
