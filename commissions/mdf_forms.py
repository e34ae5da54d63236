"""Forms of the MDF pages: the budget, a request for funds, and a claim."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms

from commissions.mdf_models import MdfRequest

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0.01")}


def _weight_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal(0),
        max_digits=6,
        decimal_places=3,
        widget=forms.NumberInput(attrs={"step": "0.001"}),
    )


class MdfBudgetForm(forms.Form):
    period = forms.CharField(
        max_length=7, help_text="A month as YYYY-MM or a quarter as YYYY-Qn, such as 2026-Q4."
    )
    amount = forms.DecimalField(label="Budget", **MONEY)
    lookback_months = forms.IntegerField(
        label="Look-back (months)",
        min_value=1,
        max_value=60,
        initial=12,
        help_text="Won deals closed in this many months before the period weight it.",
    )
    weight_a = _weight_field("Tier A weight")
    weight_b = _weight_field("Tier B weight")
    weight_c = _weight_field("Tier C weight")
    weight_d = _weight_field("Tier D weight")
    weight_unscored = _weight_field("Unscored weight")


class MdfRequestForm(forms.Form):
    period = forms.ChoiceField(help_text="The budget period the funds come from.")
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    activity_type = forms.ChoiceField(choices=MdfRequest.ActivityType.choices)
    planned_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    planned_end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    requested_amount = forms.DecimalField(**MONEY)
    # A new key per rendered form, so a submit sent twice stores one request.
    idempotency_key = forms.CharField(max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args, periods: list[str], **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [(label, label) for label in periods]


class MdfStaffRequestForm(MdfRequestForm):
    partner = forms.TypedChoiceField(coerce=int, help_text="The partner the request is for.")

    def __init__(self, *args, partners: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].choices = partners


class MdfClaimForm(forms.Form):
    claimed_amount = forms.DecimalField(**MONEY)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
