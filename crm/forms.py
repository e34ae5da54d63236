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
        widget=forms.SearchInput(attrs={"placeholder": "Name or domain"}),
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
    file = forms.FileField(
        label="CSV file",
        help_text="CSV with a header line: UTF-8, UTF-16 with a byte-order mark, or the "
        "encoding chosen below.",
    )
    strict = forms.BooleanField(
        required=False,
        initial=True,
        label="Strict",
        help_text="Write nothing when any line is invalid. Untick to import the valid lines.",
    )
    dry_run = forms.BooleanField(
        required=False,
        label="Dry run",
        help_text="Check every line and count what would change, writing nothing.",
    )
    source = forms.CharField(
        required=False,
        max_length=100,
        label="Source",
        help_text="Name of the system the file comes from, such as salesforce-export. With a "
        "column mapping below, the mapping and format are saved under this name; alone, the "
        "saved ones are used.",
    )
    mapping = forms.CharField(
        required=False,
        label="Column mapping",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One 'File header = column' per line, such as 'Opp ID = external_id'. "
        "Leave the column empty to ignore a file column.",
    )
    locale = forms.ChoiceField(
        required=False,
        label="Numbers",
        choices=[
            ("", "Detect; reject ambiguous values"),
            ("en", "en: 1,234.56"),
            ("de", "de: 1.234,56"),
            ("fr", "fr: 1 234,56"),
            ("ch", "ch: 1'234.56"),
        ],
    )
    date_format = forms.ChoiceField(
        required=False,
        label="Dates",
        choices=[
            ("", "Detect; reject ambiguous dates"),
            ("DMY", "Day first: 31/12/2026"),
            ("MDY", "Month first: 12/31/2026"),
            ("YMD", "Year first: 2026/12/31"),
        ],
    )
    encoding = forms.CharField(
        required=False,
        max_length=30,
        label="Encoding",
        help_text="Such as cp1252 or latin-1; empty: from the byte-order mark, else UTF-8.",
    )
    delimiter = forms.ChoiceField(
        required=False,
        label="Delimiter",
        choices=[("", "Detect"), (",", "Comma"), (";", "Semicolon"), ("tab", "Tab"), ("|", "|")],
    )

    def clean_mapping(self) -> dict | None:
        """Parse 'File header = column' lines into {file header: column}."""
        text = self.cleaned_data["mapping"]
        if not text.strip():
            return None
        mapping = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            header, separator, column = line.rpartition("=")
            if not separator or not header.strip():
                raise forms.ValidationError(
                    f"Line {number} ({line.strip()!r}) is not 'File header = column'."
                )
            mapping[header.strip()] = column.strip()
        return mapping

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            upload_size_check(upload)
        except DomainError as error:
            raise forms.ValidationError(f"{error.message} {error.fix}") from None
        return upload
