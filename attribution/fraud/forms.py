"""Forms of the fraud review page: the filters and the dismiss and confirm notes."""

from __future__ import annotations

from django import forms

from attribution.fraud.review import NOTE_MAX_LENGTH
from attribution.models import FraudSignal
from partners.models import Partner


class FraudSignalFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "All statuses"), *FraudSignal.Status.choices]
    )
    kind = forms.ChoiceField(required=False, choices=[("", "All kinds"), *FraudSignal.Kind.choices])
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.none(), required=False, empty_label="All partners"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built here, not on the class, because the scoped manager needs the
        # request's tenant to be active.
        self.fields["partner"].queryset = Partner.objects.order_by("name")


class DismissForm(forms.Form):
    note = forms.CharField(max_length=NOTE_MAX_LENGTH, required=False, strip=True)


class ConfirmForm(forms.Form):
    note = forms.CharField(
        max_length=NOTE_MAX_LENGTH,
        strip=True,
        error_messages={"required": "Write a note to confirm: say what the review found."},
    )
