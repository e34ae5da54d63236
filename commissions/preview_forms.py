"""The "what would this deal pay, and why" form of the plan pages.

The form is sent with GET because a preview writes nothing, so analysts can use
it and a preview can be bookmarked. Its fields carry the prefix `preview`.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms

from commissions.models import CommissionPlan
from commissions.preview import Preview, deal_preview, described_deal_preview
from crm.models import Deal
from partners.models import Partner
from tenancy.errors import DomainError

PREFIX = "preview"


class PreviewForm(forms.Form):
    deal_external_id = forms.CharField(
        label="Stored deal (external id)",
        max_length=100,
        required=False,
        help_text="Price a stored deal and show what was booked; the fields below are ignored.",
    )
    partner = forms.ModelChoiceField(queryset=Partner.objects.none(), required=False)
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    currency = forms.CharField(
        max_length=3, required=False, help_text="ISO 4217 code; empty is the base currency."
    )
    close_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Empty is today.",
    )
    kind = forms.ChoiceField(
        label="Deal kind", choices=Deal.Kind.choices, initial=Deal.Kind.NEW, required=False
    )
    product = forms.CharField(max_length=100, required=False)
    account_domain = forms.CharField(
        max_length=253,
        required=False,
        help_text="The account's fit and the partner's original deal on it; or give the fit.",
    )
    fit_tier = forms.ChoiceField(
        choices=[("", "—"), ("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")], required=False
    )
    fit_score = forms.IntegerField(min_value=0, max_value=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix=PREFIX, **kwargs)
        self.fields["partner"].queryset = Partner.objects.order_by("name")

    def clean(self):
        data = super().clean()
        if not data.get("deal_external_id"):
            if data.get("partner") is None and "partner" not in self.errors:
                self.add_error("partner", "Choose a partner, or give a stored deal's external id.")
            if data.get("amount") is None and "amount" not in self.errors:
                self.add_error("amount", "Give the deal amount, or a stored deal's external id.")
        data["kind"] = data.get("kind") or Deal.Kind.NEW
        if data.get("currency"):
            data["currency"] = data["currency"].upper()
        return data


def preview_submitted(query) -> bool:
    return any(key.startswith(f"{PREFIX}-") for key in query)


def preview_run(form: PreviewForm, *, tenant, plan: CommissionPlan | None) -> Preview | None:
    """Price the deal the valid `form` names or describes; put a service error on the form."""
    data = form.cleaned_data
    try:
        if data["deal_external_id"]:
            deal = (
                Deal.objects.select_related("account", "partner")
                .filter(external_id=data["deal_external_id"])
                .first()
            )
            if deal is None:
                form.add_error(
                    "deal_external_id",
                    f"No deal has the external id {data['deal_external_id']!r}. "
                    "Check the id on the deal, or describe the deal instead.",
                )
                return None
            return deal_preview(tenant=tenant, deal=deal, plan=plan)
        return described_deal_preview(
            tenant=tenant,
            plan=plan,
            partner_id=data["partner"].pk,
            amount=data["amount"] or Decimal(0),
            currency=data["currency"],
            close_date=data["close_date"],
            kind=data["kind"],
            product=data["product"],
            account_domain=data["account_domain"],
            fit_tier=data["fit_tier"],
            fit_score=data["fit_score"],
        )
    except DomainError as error:
        text = f"{error.message} {error.fix}".strip()
        field = {"partner_id": "partner"}.get(error.field, error.field)
        form.add_error(field if field in form.fields else None, text)
        return None
