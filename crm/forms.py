"""Forms of the account list filters and the CSV import upload."""

from __future__ import annotations

from django import forms

from crm.importing import upload_size_check
from crm.models import Account, ImportRun
from crm.selectors import ACCOUNT_DEFAULT_ORDERING
from tenancy.errors import DomainError

UNSCORED_TIER = "none"
# Keys of crm.selectors.ACCOUNT_ORDERINGS, with the label the sort menu shows.
ACCOUNT_ORDERING_CHOICES = [
    ("-fit_score", "Fit score, highest first"),
    ("fit_score", "Fit score, lowest first"),
    ("name", "Name, A to Z"),
    ("-name", "Name, Z to A"),
]


class AccountFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        help_text="Part of the name or domain.",
    )
    tier = forms.ChoiceField(
        required=False,
        label="Tier",
        choices=[("", "All tiers"), *Account.Tier.choices, (UNSCORED_TIER, "Not scored")],
    )
    ordering = forms.ChoiceField(
        required=False,
        label="Sort",
        choices=ACCOUNT_ORDERING_CHOICES,
        initial=ACCOUNT_DEFAULT_ORDERING,
    )


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label="File contains",
        choices=ImportRun.Kind.choices,
    )
    file = forms.FileField(label="CSV file", help_text="UTF-8 CSV with a header line.")
    strict = forms.BooleanField(
        required=False,
        initial=True,
        label="Strict",
        help_text="Write nothing when any line is invalid. Untick to import the valid lines.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            upload_size_check(upload)
        except DomainError as error:
            raise forms.ValidationError(f"{error.message} {error.fix}") from None
        return upload
