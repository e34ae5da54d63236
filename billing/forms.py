"""Forms of the billing page."""

from __future__ import annotations

from django import forms

from billing.connections import MAX_PREVIOUS_SECRET_HOURS
from billing.models import BillingConnection


class ConnectionCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Such as 'Stripe live'. Names are unique.")
    provider = forms.ChoiceField(choices=BillingConnection.Provider.choices)
    signing_secret = forms.CharField(
        max_length=200,
        widget=forms.PasswordInput,
        help_text="The endpoint's signing secret from the provider, such as whsec_….",
    )


class SecretRotateForm(forms.Form):
    signing_secret = forms.CharField(
        max_length=200, widget=forms.PasswordInput, help_text="The new signing secret."
    )
    keep_previous_hours = forms.IntegerField(
        min_value=0,
        max_value=MAX_PREVIOUS_SECRET_HOURS,
        initial=0,
        help_text="Hours the old secret stays valid, while the provider still signs with it.",
    )
