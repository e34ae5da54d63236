"""Pages of commission plans: a plan's terms, draft editing, copies, activation, previews.

The page of the active plan is `commissions.views.plan`; it shares the terms and
preview context built here.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from commissions.forms import PERCENT
from commissions.models import CommissionPlan, CommissionRule
from commissions.plan_forms import PlanDraftForms
from commissions.plans import (
    PARTNER_TIERS,
    commission_plan_activate,
    commission_plan_copy,
    commission_plan_draft_delete,
    commission_plan_draft_save,
)
from commissions.preview_forms import PreviewForm, preview_run, preview_submitted
from commissions.pricing import RULE_PRECEDENCE
from commissions.selectors import commission_plan_active, commission_plan_list
from partners.models import PartnerScore
from tenancy.confirmation import Question, ask_unless_confirmed
from tenancy.errors import DomainError
from tenancy.permissions import editor_required, page_permissions, staff_required
from tenancy.shortcuts import get_for_tenant_or_404


class CopyForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name of the new draft")


class ActivateForm(forms.Form):
    effective_from = forms.DateField(
        label="Pays deals that close on or after",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


def rules_in_precedence(plan: CommissionPlan) -> list[CommissionRule]:
    """Return the plan's rules in the order pricing tries them.

    Scopes go in RULE_PRECEDENCE order, and within a scope a rule for one deal kind
    comes before the rule for every kind, because it wins for that kind.
    """
    order = {scope: index for index, scope in enumerate(RULE_PRECEDENCE)}
    return sorted(
        plan.rules.all(),
        key=lambda rule: (
            order[rule.scope],
            rule.partner.name if rule.partner_id else rule.value.casefold(),
            rule.deal_kind == "",
            rule.deal_kind,
        ),
    )


def plan_terms_context(plan: CommissionPlan | None) -> dict:
    """Return what the terms include shows of `plan`, rules in precedence order."""
    if plan is None:
        return {}
    tier_multipliers = plan.partner_tier_multipliers or {}
    return {
        "terms_plan": plan,
        "terms_base_rate_percent": plan.base_rate * PERCENT,
        "terms_tiers": [(tier.upper(), getattr(plan, f"multiplier_{tier}")) for tier in "abcd"],
        "terms_segments": [
            (label, getattr(plan, f"segment_multiplier_{segment}"))
            for segment, label in PartnerScore.Segment.choices
        ],
        "terms_partner_tiers": [
            (tier.capitalize(), tier_multipliers.get(tier)) for tier in PARTNER_TIERS
        ],
        "terms_rules": [
            (rule, rule.rate * PERCENT if rule.rate is not None else None)
            for rule in rules_in_precedence(plan)
        ],
    }


def preview_context(request, *, plan: CommissionPlan | None) -> dict:
    """Return the preview form and, when it was sent and is valid, the priced deal."""
    submitted = preview_submitted(request.GET)
    form = PreviewForm(request.GET if submitted else None)
    preview = None
    if submitted and form.is_valid():
        preview = preview_run(form, tenant=request.tenant, plan=plan)
    return {
        "preview_form": form,
        "preview": preview,
        "preview_plan": plan,
        "preview_rate_percent": preview.price.rate * PERCENT if preview else None,
    }


def _simulate_url(plan: CommissionPlan) -> str | None:
    # The simulator page is optional: plans work without it.
    try:
        return reverse("commissions:plan_simulate", kwargs={"pk": plan.pk})
    except NoReverseMatch:
        return None


def _render_detail(
    request, plan: CommissionPlan, *, draft_forms=None, activate_form=None, status=200
):
    can_edit = page_permissions(request.membership)["can_edit"]
    active = commission_plan_active()
    if plan.is_draft and can_edit and draft_forms is None:
        draft_forms = PlanDraftForms(plan=plan)
    if activate_form is None:
        activate_form = ActivateForm(initial={"effective_from": request.tenant.today()})
    context = {
        "plan": plan,
        "active_plan": active,
        "draft_forms": draft_forms,
        "activate_form": activate_form,
        "copy_form": CopyForm(initial={"name": f"Copy of {plan.name}"}),
        "simulate_url": _simulate_url(plan) if plan.is_draft else None,
        "today": request.tenant.today(),
        "currency": request.tenant.base_currency,
        **plan_terms_context(plan),
        **preview_context(request, plan=plan),
        **page_permissions(request.membership),
    }
    return render(request, "commissions/plan_detail.html", context, status=status)


def _plan_get(pk: int) -> CommissionPlan:
    return get_for_tenant_or_404(commission_plan_list(), pk=pk)


@staff_required
def plan_detail(request, pk: int):
    """Show a plan's terms and the preview panel, and for a draft the edit form that POST saves."""
    plan = _plan_get(pk)
    if request.method != "POST":
        return _render_detail(request, plan)
    if not page_permissions(request.membership)["can_edit"]:
        raise PermissionDenied("Only admins and partner managers may change a plan.")
    if not plan.is_draft:
        messages.error(
            request,
            f"Plan “{plan.name}” is activated, so it is no longer a draft. Copy it into a "
            "new draft to change its terms.",
        )
        return redirect("commissions:plan_detail", pk=plan.pk)
    draft_forms = PlanDraftForms(request.POST, plan=plan)
    if draft_forms.is_valid():
        try:
            commission_plan_draft_save(
                tenant=request.tenant, actor=request.user, pk=plan.pk, **draft_forms.values()
            )
        except DomainError as error:
            draft_forms.add_service_error(error)
        else:
            messages.success(request, "Saved the draft. It pays nothing until it is activated.")
            return redirect("commissions:plan_detail", pk=plan.pk)
    return _render_detail(request, plan, draft_forms=draft_forms, status=400)


@editor_required
def plan_create(request):
    """Create a draft from the model defaults, or from the plan named by `?from=<id>`."""
    if request.method == "POST":
        draft_forms = PlanDraftForms(request.POST)
        if draft_forms.is_valid():
            try:
                draft = commission_plan_draft_save(
                    tenant=request.tenant, actor=request.user, **draft_forms.values()
                )
            except DomainError as error:
                draft_forms.add_service_error(error)
            else:
                messages.success(request, f"Created the draft “{draft.name}”.")
                return redirect("commissions:plan_detail", pk=draft.pk)
        return _render_create(request, draft_forms, source=None, status=400)
    source = None
    if request.GET.get("from", "").isdigit():
        source = _plan_get(int(request.GET["from"]))
    name = f"Copy of {source.name}" if source else ""
    return _render_create(request, PlanDraftForms(plan=source, name=name), source=source)


def _render_create(request, draft_forms, *, source, status=200):
    context = {
        "draft_forms": draft_forms,
        "source": source,
        "active_plan": commission_plan_active(),
        "currency": request.tenant.base_currency,
        **page_permissions(request.membership),
    }
    return render(request, "commissions/plan_create.html", context, status=status)


@editor_required
@require_POST
def plan_copy(request, pk: int):
    source = _plan_get(pk)
    form = CopyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the new draft a name of up to 200 characters.")
        return redirect("commissions:plan_detail", pk=source.pk)
    try:
        draft = commission_plan_copy(
            tenant=request.tenant, source=source, name=form.cleaned_data["name"], actor=request.user
        )
    except DomainError as error:
        messages.error(request, f"{error.message} {error.fix}".strip())
        return redirect("commissions:plan_detail", pk=source.pk)
    messages.success(request, f"Copied “{source.name}” into the draft “{draft.name}”.")
    return redirect("commissions:plan_detail", pk=draft.pk)


@editor_required
@require_POST
def plan_delete(request, pk: int):
    plan = _plan_get(pk)
    question = Question(
        f"Delete the draft “{plan.name}”?",
        "The draft and its rules are deleted for good. No deal is paid by a draft, so no "
        "commission changes.",
        "Delete draft",
    )
    cancel_url = reverse("commissions:plan_detail", args=[plan.pk])
    # A plan that is no longer a draft is refused by the service below, without asking.
    if plan.is_draft and (page := ask_unless_confirmed(request, question, cancel_url=cancel_url)):
        return page
    try:
        commission_plan_draft_delete(tenant=request.tenant, plan=plan, actor=request.user)
    except DomainError as error:
        messages.error(request, f"{error.message} {error.fix}".strip())
        return redirect("commissions:plan_detail", pk=plan.pk)
    messages.success(request, f"Deleted the draft “{plan.name}”.")
    return redirect("commissions:plan")


@editor_required
@require_POST
def plan_activate(request, pk: int):
    plan = _plan_get(pk)
    if not plan.is_draft:
        messages.error(
            request, f"Plan “{plan.name}” is already activated; copy it to start a new version."
        )
        return redirect("commissions:plan_detail", pk=plan.pk)
    form = ActivateForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, plan, activate_form=form, status=400)
    effective_from: datetime.date = form.cleaned_data["effective_from"]
    replaced = commission_plan_active()
    try:
        commission_plan_activate(
            tenant=request.tenant,
            actor=request.user,
            name=plan.name,
            effective_from=effective_from,
        )
    except DomainError as error:
        form.add_error("effective_from", f"{error.message} {error.fix}".strip())
        return _render_detail(request, plan, activate_form=form, status=400)
    text = f"Activated “{plan.name}” for deals that close on or after {effective_from}."
    if replaced is not None:
        text += (
            f" “{replaced.name}” keeps paying deals that closed before that day. "
            "Entries already booked do not change."
        )
    messages.success(request, text)
    return redirect("commissions:plan")
