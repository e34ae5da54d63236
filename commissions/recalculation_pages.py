"""Pages of recalculations: the preview form, the preview, apply and discard."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from commissions.models import CommissionPlan, Recalculation
from commissions.recalculation import (
    recalculation_apply,
    recalculation_discard,
    recalculation_preview,
)
from tenancy.errors import DomainError
from tenancy.form_errors import form_error_add
from tenancy.permissions import editor_required, page_permissions, staff_required
from tenancy.shortcuts import get_for_tenant_or_404


class RecalculationForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=CommissionPlan.objects.none())
    close_from = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    close_to = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built here because the scoped manager needs the request's tenant.
        self.fields["plan"].queryset = CommissionPlan.objects.filter(is_draft=False).order_by(
            "-is_active", "-effective_from", "-id"
        )


@editor_required
def recalculation_new(request):
    if request.method == "POST":
        form = RecalculationForm(request.POST)
        if form.is_valid():
            try:
                recalculation = recalculation_preview(
                    tenant=request.tenant,
                    plan=form.cleaned_data["plan"],
                    close_from=form.cleaned_data["close_from"],
                    close_to=form.cleaned_data["close_to"],
                    actor=request.user,
                )
            except DomainError as error:
                form_error_add(form, error)
            else:
                return redirect("commissions:recalculation_detail", pk=recalculation.pk)
    else:
        form = RecalculationForm(initial={"plan": request.GET.get("plan")})
    return render(request, "commissions/recalculation_new.html", {"form": form})


@staff_required
def recalculation_detail(request, pk: int):
    recalculation = get_for_tenant_or_404(
        Recalculation.objects.select_related("plan", "created_by", "applied_by"), pk=pk
    )
    context = {"recalculation": recalculation, **page_permissions(request.membership)}
    return render(request, "commissions/recalculation_detail.html", context)


def _step(request, pk: int, step, done: str):
    recalculation = get_for_tenant_or_404(Recalculation, pk=pk)
    try:
        step(tenant=request.tenant, recalculation_id=recalculation.pk, actor=request.user)
    except DomainError as error:
        messages.error(request, f"{error.message} {error.fix}")
    else:
        messages.success(request, done)
    return redirect("commissions:recalculation_detail", pk=recalculation.pk)


@editor_required
@require_POST
def recalculation_apply_page(request, pk: int):
    return _step(
        request,
        pk,
        recalculation_apply,
        "Applied the recalculation: its adjustments are in the ledger.",
    )


@editor_required
@require_POST
def recalculation_discard_page(request, pk: int):
    return _step(request, pk, recalculation_discard, "Discarded the recalculation.")
