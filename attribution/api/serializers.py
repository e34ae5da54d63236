"""Request and response shapes of the registrations, links, touches and settings API."""

from __future__ import annotations

from rest_framework import serializers

from attribution.eligibility import ELIGIBILITY_STATUSES
from attribution.links import link_url
from attribution.models import Referral
from attribution.rules import WINDOW_DAYS_MAX, WINDOW_DAYS_MIN
from attribution.selectors import conflict_facts, conflict_message
from crm import parsing
from crm.api.serializers import PartnerRefSerializer
from tenancy.api.listing import UpdatedSinceSerializer, ordering_field
from tenancy.models import Tenant

# Fields that name the registered company; a request sends exactly one of them.
# account_domain and account_external_id are the names of the first version of
# POST /api/v1/referrals/.
COMPANY_FIELDS = ("domain", "email", "url", "account_domain", "account_external_id")

REFERRAL_ORDERINGS = {
    "-registered_at": ("-registered_at", "-id"),
    "registered_at": ("registered_at", "id"),
    "-updated_at": ("-updated_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-id": ("-id",),
    "id": ("id",),
}


class CompanyFieldsMixin:
    """Validate that exactly one of `company_fields` is given and return its name."""

    company_fields: tuple[str, ...] = ("domain", "email", "url")

    def validate(self, attrs: dict) -> dict:
        sent_fields = [name for name in self.company_fields if attrs.get(name)]
        if len(sent_fields) != 1:
            names = ", ".join(self.company_fields[:-1]) + f" or {self.company_fields[-1]}"
            first = sent_fields[0] if sent_fields else self.company_fields[0]
            raise serializers.ValidationError(
                {first: f"Send exactly one of {names}; this request has {len(sent_fields)}."}
            )
        attrs["company_field"] = sent_fields[0]
        return attrs


def _company_field(help_text: str) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text=help_text
    )


class RegistrationFieldsSerializer(CompanyFieldsMixin, serializers.Serializer):
    domain = _company_field("The company's domain, such as acme.com.")
    email = _company_field("An e-mail address at the company.")
    url = _company_field("A URL on the company's site.")
    company_name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=255
    )
    contact_email = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=254
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ReferralInputSerializer(RegistrationFieldsSerializer):
    company_fields = COMPANY_FIELDS

    partner_external_id = serializers.CharField(max_length=100)
    account_domain = _company_field("Same as domain; kept for clients of the first version.")
    account_external_id = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text="An account's external id; the registration takes its domain.",
    )
    referred_at = serializers.DateField(
        required=False,
        default=None,
        help_text="When the partner introduced the company, for registrations kept in "
        "another system; now when empty.",
    )

    def validate_referred_at(self, value):
        try:
            return parsing.check_date_range(value)
        except ValueError as error:
            raise serializers.ValidationError(f"Expected {error}.") from None


class PortalReferralInputSerializer(RegistrationFieldsSerializer):
    pass


class ReferralOutputSerializer(serializers.Serializer):
    """A registration as staff and API keys see it, with the holder of a conflict."""

    id = serializers.IntegerField()
    partner = PartnerRefSerializer()
    domain = serializers.CharField()
    company_name = serializers.CharField()
    contact_email = serializers.CharField()
    notes = serializers.CharField()
    account_id = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=Referral.Status.choices)
    conflict = serializers.ChoiceField(
        choices=Referral.Conflict.choices, help_text="Empty when the registration was eligible."
    )
    conflict_message = serializers.SerializerMethodField()
    conflict_detail = serializers.SerializerMethodField()
    fit_tier = serializers.CharField(
        help_text="The account's tier when registered; empty if unknown."
    )
    fit_score = serializers.IntegerField(allow_null=True)
    source = serializers.ChoiceField(choices=Referral.Source.choices)
    registered_at = serializers.DateTimeField()
    expires_on = serializers.DateField(help_text="Last day the registration counts.")
    reviewed_at = serializers.DateTimeField(allow_null=True)
    review_note = serializers.CharField()

    reveal_holder = True

    def get_conflict_message(self, referral: Referral) -> str:
        return conflict_message(referral, reveal_holder=self.reveal_holder)

    def get_conflict_detail(self, referral: Referral) -> dict:
        return conflict_facts(referral, reveal_holder=self.reveal_holder)


class PortalReferralOutputSerializer(serializers.Serializer):
    """A registration as shown to its partner, without other partners or internal ids."""

    id = serializers.IntegerField()
    domain = serializers.CharField()
    company_name = serializers.CharField()
    contact_email = serializers.CharField()
    notes = serializers.CharField()
    status = serializers.ChoiceField(choices=Referral.Status.choices)
    conflict = serializers.ChoiceField(choices=Referral.Conflict.choices)
    conflict_message = serializers.SerializerMethodField()
    conflict_detail = serializers.SerializerMethodField()
    fit_tier = serializers.CharField()
    fit_score = serializers.SerializerMethodField(
        help_text="The fit score at registration; null unless the partner's mapping "
        "visibility is details."
    )
    registered_at = serializers.DateTimeField()
    expires_on = serializers.DateField()

    def get_fit_score(self, referral: Referral) -> int | None:
        return referral.fit_score if self.context.get("show_score") else None

    def get_conflict_message(self, referral: Referral) -> str:
        return conflict_message(referral, reveal_holder=False)

    def get_conflict_detail(self, referral: Referral) -> dict:
        return conflict_facts(referral, reveal_holder=False)


class ReferralFilterSerializer(UpdatedSinceSerializer):
    status = serializers.ChoiceField(choices=Referral.Status.choices, required=False)
    conflict = serializers.ChoiceField(
        choices=[c for c in Referral.Conflict.values if c], required=False
    )
    partner = serializers.IntegerField(required=False, min_value=1, help_text="A partner id.")
    domain = serializers.CharField(required=False, max_length=253)
    ordering = ordering_field(REFERRAL_ORDERINGS, "-registered_at")


class ReviewInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=500, help_text="Why; stored with the registration and in the audit trail."
    )


class EligibilityQuerySerializer(serializers.Serializer):
    domain = serializers.CharField(
        max_length=2000, help_text="A domain, a URL on the company's site or an e-mail address."
    )


class StaffEligibilityQuerySerializer(EligibilityQuerySerializer):
    partner = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Check for this partner id; without it, any open deal or registration "
        "is a conflict.",
    )


class EligibilityOutputSerializer(serializers.Serializer):
    domain = serializers.CharField(help_text="The registrable domain the check used.")
    status = serializers.ChoiceField(choices=ELIGIBILITY_STATUSES)
    eligible = serializers.BooleanField()
    conflict = serializers.ChoiceField(choices=Referral.Conflict.choices)
    message = serializers.CharField()
    known_company = serializers.BooleanField(help_text="False for a company not in the CRM.")
    account_id = serializers.IntegerField(allow_null=True)
    account_name = serializers.CharField()
    fit_tier = serializers.CharField(help_text="Empty for an unknown or unscored company.")
    fit_score = serializers.IntegerField(allow_null=True)
    detail = serializers.JSONField(help_text="Dates behind a conflict or an own registration.")
    referral_id = serializers.IntegerField(
        allow_null=True, help_text="The partner's own registration of the domain, if any."
    )


class LinkInputSerializer(serializers.Serializer):
    partner_external_id = serializers.CharField(max_length=100)
    label = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    destination = serializers.CharField(
        max_length=2000, help_text="An http or https URL on one of the tenant's link hosts."
    )


class PortalLinkInputSerializer(serializers.Serializer):
    label = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    destination = serializers.CharField(
        max_length=2000, help_text="An http or https URL on one of the tenant's link hosts."
    )


class LinkOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    partner = PartnerRefSerializer()
    code = serializers.CharField()
    url = serializers.SerializerMethodField(help_text="The link to share.")
    label = serializers.CharField()
    destination = serializers.CharField()
    is_active = serializers.BooleanField()
    click_count = serializers.IntegerField(
        help_text="Clicks written so far; the worker writes new clicks within seconds."
    )
    created_at = serializers.DateTimeField()

    def get_url(self, link) -> str:
        return link_url(link.code)


class PortalLinkOutputSerializer(LinkOutputSerializer):
    partner = None


class LinkFilterSerializer(serializers.Serializer):
    partner = serializers.IntegerField(required=False, min_value=1, help_text="A partner id.")
    active = serializers.BooleanField(required=False, allow_null=True, default=None)


class ConversionInputSerializer(CompanyFieldsMixin, serializers.Serializer):
    visitor_id = serializers.CharField(
        max_length=100, help_text="The t360_vid parameter the landing page received."
    )
    domain = _company_field("The company's domain, such as acme.com.")
    email = _company_field("An e-mail address at the company, such as the sign-up address.")
    url = _company_field("A URL on the company's site.")


class ConversionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="conversion.pk")
    visitor_id = serializers.CharField(source="conversion.visitor_id")
    domain = serializers.CharField(source="conversion.domain")
    converted_at = serializers.DateTimeField(source="conversion.converted_at")
    clicks = serializers.IntegerField(help_text="The visitor's clicks written so far.")
    touches_written = serializers.IntegerField(help_text="Link touches this request added.")
    partner_ids = serializers.ListField(child=serializers.IntegerField())


class AttributionSettingsSerializer(serializers.Serializer):
    attribution_window_days = serializers.IntegerField(
        required=False,
        help_text=f"Days before a deal's close date in which touches count, "
        f"{WINDOW_DAYS_MIN} to {WINDOW_DAYS_MAX}.",
    )
    attribution_touch = serializers.ChoiceField(
        choices=Tenant.Touch.choices,
        required=False,
        help_text="first: the earliest touch in the window wins; last: the latest wins.",
    )
    link_domains = serializers.ListField(
        child=serializers.CharField(max_length=253),
        required=False,
        help_text="Hosts tracking links may redirect to; each allows its subdomains.",
    )
