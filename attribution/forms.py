"""Forms of the registration, review, link and attribution settings pages."""

from __future__ import annotations

from django import forms

from attribution.models import Referral
from attribution.rules import WINDOW_DAYS_MAX, WINDOW_DAYS_MIN
from partners.models import Partner
from tenancy.errors import DomainError
from tenancy.models import Tenant


class ServiceErrorMixin:
    def add_service_error(self, error: DomainError) -> None:
        """Show a DomainError of a service on the field it names, else above the form."""
        text = f"{error.message} {error.fix}".strip()
        self.add_error(error.field if error.field in self.fields else None, text)


class RegistrationForm(ServiceErrorMixin, forms.Form):
    domain = forms.CharField(
        label="Company",
        max_length=2000,
        help_text="The company's domain (acme.com), a URL on its site or an e-mail address at it.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    company_name = forms.CharField(label="Company name", max_length=255, required=False)
    contact_email = forms.CharField(
        label="Contact e-mail",
        max_length=254,
        required=False,
        help_text="The person you are talking to there. Optional.",
    )
    notes = forms.CharField(
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 50}),
        help_text="What you know about the opportunity. Optional.",
    )


class ReviewForm(ServiceErrorMixin, forms.Form):
    note = forms.CharField(
        max_length=500,
        widget=forms.TextInput(attrs={"size": 28}),
        help_text="Why; the registration and the audit trail keep it.",
    )


ANY = ("", "Any")


class ReferralFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[ANY, *Referral.Status.choices], required=False)
    conflict = forms.ChoiceField(
        choices=[ANY, *[(value, label) for value, label in Referral.Conflict.choices if value]],
        required=False,
    )
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.none(), required=False, empty_label="Any"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Partner.objects.order_by("name")


class LinkForm(ServiceErrorMixin, forms.Form):
    label = forms.CharField(
        max_length=100, required=False, help_text="Where you share it, such as 'Newsletter'."
    )
    destination = forms.CharField(
        max_length=2000,
        help_text=(
            "The page visitors land on, such as https://acme.com/pricing, on one of the "
            "program's own sites."
        ),
        widget=forms.URLInput(attrs={"size": 50}),
    )


class AttributionSettingsForm(ServiceErrorMixin, forms.Form):
    attribution_window_days = forms.IntegerField(
        label="Attribution window (days)",
        min_value=WINDOW_DAYS_MIN,
        max_value=WINDOW_DAYS_MAX,
        help_text=(
            f"A partner's touch counts for deals that close at most this many days later, "
            f"from {WINDOW_DAYS_MIN} to {WINDOW_DAYS_MAX}. Registrations expire after it too."
        ),
    )
    attribution_touch = forms.ChoiceField(
        label="Touch rule",
        choices=Tenant.Touch.choices,
        widget=forms.RadioSelect,
        help_text=(
            "Which partner wins when several touched a company inside the window: the "
            "first or the last. A change attributes unbooked deals again; booked ones stay."
        ),
    )
    link_domains = forms.CharField(
        label="Tracking link hosts",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        help_text=(
            "Hosts that tracking links may send visitors to, one per line, such as acme.com. "
            "Each host also allows its subdomains. Links need at least one."
        ),
    )
