"""The commission ledger page: entries filtered by partner and status, with totals."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.shortcuts import render

from commissions.models import LedgerEntry
from partners.models import Partner
from reporting.selectors import ledger_entries
from tenancy.permissions import staff_required

ENTRIES_PER_PAGE = 50


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
    }
    return render(request, "commissions/ledger_list.html", context)
