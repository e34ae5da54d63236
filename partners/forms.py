"""Forms of the partner pages: create and edit, status change, list and ranking filters."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from crm.domains import InvalidDomain, normalize_domain
from partners.lifecycle import allowed_next_statuses
from partners.models import Partner, PartnerScore
from partners.selectors import PARTNER_SORTS, RANKING_DEFAULT_STATUSES
from partners.services import OWNER_ROLES
from tenancy.errors import DomainError
from tenancy.models import Tenant
from tenancy.scope import current_tenant_id

FIELDS = (
    "external_id",
    "name",
    "kind",
    "status",
    "domain",
    "description",
    "owner",
    "tier",
    "notes",
    "mapping_visibility",
)


def _owner_choices():
    """Return the users who may own a partner of the active tenant, by username."""
    return (
        get_user_model()
        .objects.filter(
            memberships__tenant_id=current_tenant_id(), memberships__role__in=OWNER_ROLES
        )
        .distinct()
        .order_by("username")
    )


def _mapping_visibility_choices() -> list[tuple[str, str]]:
    """Return the visibility levels, led by the empty choice that follows the tenant."""
    default = Tenant.objects.get(pk=current_tenant_id()).get_mapping_visibility_display()
    return [("", f"Program default ({default.lower()})"), *Tenant.MappingVisibility.choices]


class PartnerForm(forms.Form):
    """A partner's editable fields. `partner` is the partner being edited, or None.

    The external id must be unique in the tenant, so the form rejects an id that
    another partner of the active tenant already has. The status is set only when
    the partner is created; later changes go through `PartnerStatusForm`.
    """

    external_id = forms.CharField(
        label="External id",
        max_length=100,
        help_text="The partner's id in your CRM. Deal and reach list imports refer to it.",
    )
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=Partner.Kind.choices, initial=Partner.Kind.REFERRAL)
    status = forms.ChoiceField(choices=Partner.Status.choices, initial=Partner.Status.ACTIVE)
    domain = forms.CharField(
        max_length=253,
        required=False,
        help_text="The partner's web domain, such as acme.com. Optional.",
    )
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4, "cols": 40})
    )
    owner = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="No owner",
        help_text="The admin or partner manager who looks after this partner.",
    )
    tier = forms.ChoiceField(choices=Partner.Tier.choices, required=False)
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 40}),
        help_text="Internal notes for your team. Partner users do not see them.",
    )
    mapping_visibility = forms.ChoiceField(
        label="What the partner sees of its account overlap",
        required=False,
        help_text=(
            "Counts only, the names of matching accounts, or their details as well. "
            "The program default comes from the Settings page."
        ),
    )

    def __init__(self, *args, partner: Partner | None = None, **kwargs):
        self.partner = partner
        if partner is not None:
            kwargs.setdefault("initial", {field: getattr(partner, field) for field in FIELDS})
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _owner_choices()
        self.fields["mapping_visibility"].choices = _mapping_visibility_choices()
        if partner is not None:
            del self.fields["status"]

    def clean_external_id(self) -> str:
        external_id = self.cleaned_data["external_id"]
        # The scoped manager limits the lookup to the active tenant's partners.
        holders = Partner.objects.filter(external_id=external_id)
        if self.partner is not None:
            holders = holders.exclude(pk=self.partner.pk)
        holder = holders.first()
        if holder is not None:
            raise forms.ValidationError(
                f"Partner “{holder.name}” already has the external id “{external_id}”. "
                "Enter an id that no other partner uses."
            )
        return external_id

    def clean_domain(self) -> str:
        domain = self.cleaned_data["domain"]
        if not domain:
            return ""
        try:
            return normalize_domain(domain)
        except InvalidDomain:
            raise forms.ValidationError(
                f"“{domain}” is not a valid web domain. Enter a domain such as acme.com."
            ) from None

    def add_service_error(self, error: DomainError) -> None:
        """Show a DomainError of partners.services on the field it names."""
        text = f"{error.message} {error.fix}".strip()
        self.add_error(error.field if error.field in self.fields else None, text)


class PartnerStatusForm(forms.Form):
    """A status change of one partner, offering only the statuses the lifecycle allows next."""

    status = forms.ChoiceField(label="New status")
    reason = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        help_text="Why the status changes. The partner's history shows it.",
    )

    def __init__(self, *args, partner: Partner, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Partner.Status.choices)
        self.fields["status"].choices = [
            (status, labels[status]) for status in allowed_next_statuses(partner.status)
        ]


def _invalid_choice(noun: str) -> str:
    """Return the error for a filter value that is not one of the field's choices."""
    return f"“%(value)s” is not a {noun}. Choose one from the list."


class PartnerListFilterForm(forms.Form):
    """The filters and the sort of the partner list."""

    q = forms.CharField(
        required=False, max_length=100, label="Name or external id", widget=forms.SearchInput
    )
    segment = forms.ChoiceField(
        required=False,
        choices=[("", "All segments"), *PartnerScore.Segment.choices],
        error_messages={"invalid_choice": _invalid_choice("segment")},
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "All statuses"), *Partner.Status.choices],
        error_messages={"invalid_choice": _invalid_choice("status")},
    )
    kind = forms.ChoiceField(
        required=False,
        choices=[("", "All kinds"), *Partner.Kind.choices],
        error_messages={"invalid_choice": _invalid_choice("kind")},
    )
    # Set by the column header links, so it has no visible input.
    sort = forms.CharField(
        required=False, max_length=40, label="Sort order", widget=forms.HiddenInput
    )

    def clean_sort(self) -> str:
        sort = self.cleaned_data["sort"]
        if sort and sort.removeprefix("-") not in PARTNER_SORTS:
            allowed = ", ".join(PARTNER_SORTS)
            raise forms.ValidationError(
                f"Unknown sort “{sort}”. Use one of {allowed}, with a leading - for "
                "descending order."
            )
        return sort


class PartnerRankingFilterForm(forms.Form):
    """The status and kind filters of the prospect ranking."""

    status = forms.MultipleChoiceField(
        required=False, choices=Partner.Status.choices, widget=forms.CheckboxSelectMultiple
    )
    kind = forms.ChoiceField(required=False, choices=[("", "All kinds"), *Partner.Kind.choices])

    def ranked_statuses(self) -> list[str]:
        """Return the statuses to rank: the chosen ones, else prospects and applicants."""
        chosen = self.cleaned_data.get("status") if self.is_valid() else None
        return chosen or list(RANKING_DEFAULT_STATUSES)

    def ranked_kind(self) -> str | None:
        return (self.cleaned_data.get("kind") or None) if self.is_valid() else None
