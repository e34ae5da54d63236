"""The commission ledger page and the commission plan page."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from commissions.forms import TIERS, CommissionPlanForm
from commissions.models import CommissionPlan, LedgerEntry, PayoutType
from commissions.money import money_round
from commissions.plan_pages import plan_terms_context, preview_context
from commissions.plans import commission_plan_activate
from commissions.selectors import commission_plan_active, commission_plan_list
from commissions.services import commission_amount
from partners.models import Partner, PartnerScore
from reporting.selectors import ledger_entries
from tenancy.errors import DomainError
from tenancy.permissions import editor_required, page_permissions, staff_required

ENTRIES_PER_PAGE = 50
# Won deal amount of the worked example on the plan page, in the tenant's base currency.
EXAMPLE_DEAL_AMOUNT = Decimal("10000.00")


class LedgerFilterForm(forms.Form):
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.none(), required=False, empty_label="All partners"
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "All statuses"), *LedgerEntry.Status.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built here, not on the class, because the scoped manager needs the
        # request's tenant to be active.
        self.fields["partner"].queryset = Partner.objects.order_by("name")


def _ledger_totals(entries, *, status: str) -> list[dict]:
    """Sum the entries per currency: entry count, base amount and commission amount.

    Void entries are left out unless the page is filtered to void entries.
    """
    if status != LedgerEntry.Status.VOID:
        entries = entries.exclude(status=LedgerEntry.Status.VOID)
    return list(
        entries.order_by()
        .values("currency")
        .annotate(entries=Count("id"), base_amount=Sum("base_amount"), amount=Sum("amount"))
        .order_by("currency")
    )


@staff_required
def ledger_list(request):
    form = LedgerFilterForm(request.GET)
    # An invalid filter value shows every entry along with the form error.
    filters = form.cleaned_data if form.is_valid() else {}
    partner = filters.get("partner")
    status = filters.get("status", "")
    entries = ledger_entries(partner_id=partner.pk if partner else None, status=status)

    context = {
        "form": form,
        "page": Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page")),
        "totals": _ledger_totals(entries, status=status),
        "status": status,
        "filtered": bool(partner or status),
        **page_permissions(request.membership),
    }
    return render(request, "commissions/ledger_list.html", context)


@dataclass(frozen=True)
class TierExample:
    """The commission that one ICP tier earns on a deal of EXAMPLE_DEAL_AMOUNT."""

    tier: str
    multiplier: Decimal
    # Base rate × multiplier, from 0 to 100.
    effective_percent: Decimal
    amount: Decimal


def _tier_examples(plan: CommissionPlan, *, currency: str) -> list[TierExample]:
    examples = []
    for tier in TIERS:
        multiplier = getattr(plan, f"multiplier_{tier}")
        if plan.payout_type == PayoutType.FLAT:
            # A flat plan pays its amount per deal whatever the deal amount.
            amount = money_round(plan.flat_amount * multiplier, currency)
        else:
            amount = commission_amount(
                base_amount=EXAMPLE_DEAL_AMOUNT,
                rate=plan.base_rate,
                multiplier=multiplier,
                currency=currency,
            )
        examples.append(
            TierExample(
                tier=tier.upper(),
                multiplier=multiplier,
                effective_percent=plan.base_rate * multiplier * 100,
                amount=amount,
            )
        )
    return examples


def _render_plan(
    request, form: CommissionPlanForm, *, plan: CommissionPlan | None, status: int = 200
):
    currency = request.tenant.base_currency
    plans = list(commission_plan_list())
    examples = _tier_examples(plan, currency=currency) if plan else []
    context = {
        "plan": plan,
        "base_rate_percent": plan.base_rate * 100 if plan else None,
        "examples": examples,
        "tier_a_example": examples[0] if examples else None,
        "segment_multipliers": [
            (label, getattr(plan, f"segment_multiplier_{segment}"))
            for segment, label in PartnerScore.Segment.choices
        ]
        if plan
        else [],
        "example_amount": EXAMPLE_DEAL_AMOUNT,
        "currency": currency,
        "form": form,
        "drafts": [other for other in plans if other.is_draft],
        "earlier_plans": [other for other in plans if not other.is_draft and not other.is_active],
        **plan_terms_context(plan),
        # The preview on this page prices under the plan in force on the close date.
        **preview_context(request, plan=None),
        **page_permissions(request.membership),
    }
    return render(request, "commissions/plan.html", context, status=status)


@staff_required
def plan(request):
    active = commission_plan_active()
    form = CommissionPlanForm(initial=CommissionPlanForm.initial_from(active))
    return _render_plan(request, form, plan=active)


@editor_required
@require_POST
def plan_update(request):
    form = CommissionPlanForm(request.POST)
    if not form.is_valid():
        return _render_plan(request, form, plan=commission_plan_active(), status=400)

    try:
        updated = commission_plan_activate(
            tenant=request.tenant, actor=request.user, **form.plan_values()
        )
    except DomainError as error:
        form.add_service_error(error)
        return _render_plan(request, form, plan=commission_plan_active(), status=400)

    messages.success(
        request,
        f"Activated the plan “{updated.name}”. Deals processed from now on use it, "
        "and entries already booked keep the rate they were booked with.",
    )
    return redirect("commissions:plan")
