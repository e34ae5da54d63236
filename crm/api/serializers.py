"""Request and response shapes of the accounts, deals and imports API."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F
from rest_framework import serializers
from rest_framework.fields import empty

from crm import parsing
from crm.models import Account, Deal, ImportRun
from crm.selectors import ACCOUNT_DEFAULT_ORDERING, ACCOUNT_ORDERINGS
from jobs.api.serializers import JobOutputSerializer
from tenancy.api.fields import MoneyField
from tenancy.api.listing import UpdatedSinceSerializer, ordering_field

DEAL_ORDERINGS = {
    "-close_date": (F("close_date").desc(nulls_last=True), "-id"),
    "close_date": (F("close_date").asc(nulls_last=True), "id"),
    "-updated_at": ("-updated_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-id": ("-id",),
    "id": ("id",),
}


def _run_parser(parse, value: str) -> str:
    """Run a `crm.parsing` parser and turn its ValueError into a field error."""
    try:
        return parse(value)
    except ValueError as error:
        raise serializers.ValidationError(f"Expected {error}.") from None


# Inputs


class DealInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(
        max_length=100, help_text="The deal's id in your CRM; the API upserts on it."
    )
    stage = serializers.CharField(
        help_text="open, won or lost; CRM names such as Closed Won and Prospecting also work."
    )
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(0),
        help_text="Deal value in `currency`, at most 2 decimals.",
    )
    currency = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="ISO 4217 code such as USD; blank means the tenant's base currency.",
    )
    close_date = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Required for won deals."
    )
    engage_date = serializers.DateField(required=False, allow_null=True, default=None)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    product = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    kind = serializers.CharField(
        required=False,
        allow_blank=True,
        default="new",
        help_text="new, renewal or expansion (Upsell and New Business also work); blank is new. "
        "Renewals and expansions are credited to the partner of the account's first deal and "
        "paid as the commission plan's recurring terms say.",
    )
    owner = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    account_external_id = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="The account's external id; takes precedence over account_domain.",
    )
    account_domain = serializers.CharField(
        max_length=253,
        required=False,
        allow_blank=True,
        default="",
        help_text="The account's web domain or URL, such as https://www.acme.com.",
    )
    partner_external_id = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="The partner credited with the deal; blank lets the pipeline attribute one.",
    )

    def validate_stage(self, value: str) -> str:
        return _run_parser(parsing.parse_stage, value)

    def validate_kind(self, value: str) -> str:
        return _run_parser(parsing.parse_deal_kind, value)

    def validate_currency(self, value: str) -> str:
        return _run_parser(parsing.parse_currency, value)

    def validate_close_date(self, value):
        return _run_parser(parsing.check_date_range, value)

    def validate_engage_date(self, value):
        return _run_parser(parsing.check_date_range, value)

    def validate_account_domain(self, value: str) -> str:
        return _run_parser(parsing.parse_domain, value)

    def validate(self, attrs: dict) -> dict:
        currency = attrs.get("currency")
        amount = attrs["amount"]
        places = parsing.currency_exponent(currency) if currency else 2
        if amount != amount.quantize(Decimal(1).scaleb(-places)):
            raise serializers.ValidationError(
                {"amount": f"{currency} amounts take at most {places} decimals."}
            )
        return attrs


class AccountInputSerializer(serializers.Serializer):
    """One account, as the bulk endpoint takes it; an omitted field is stored empty."""

    external_id = serializers.CharField(
        max_length=100, help_text="The account's id in your CRM; the API upserts on it."
    )
    name = serializers.CharField(max_length=255)
    domain = serializers.CharField(
        max_length=253,
        required=False,
        allow_blank=True,
        default="",
        help_text="Web domain or URL, stored as the registrable domain: www.Acme.co.uk is "
        "acme.co.uk. Unique per tenant.",
    )
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    employees = serializers.IntegerField(
        min_value=0, max_value=10_000_000, required=False, allow_null=True, default=None
    )
    annual_revenue = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        allow_null=True,
        default=None,
        help_text="In the tenant's base currency.",
    )
    country = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Country name or ISO 3166 code, such as Germany or DE; stored as alpha-2.",
    )
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    year_established = serializers.IntegerField(
        min_value=1600, max_value=2100, required=False, allow_null=True, default=None
    )
    parent_name = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default=""
    )
    tech_stack = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        default=list,
        help_text="Products the account uses; stored sorted, without repeats.",
    )
    budget = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        allow_null=True,
        default=None,
        help_text="Stated budget in the tenant's base currency.",
    )
    triggers = serializers.DictField(
        child=serializers.DateField(),
        required=False,
        default=dict,
        help_text='Buying triggers: name to the date it last happened, such as {"funding": '
        '"2026-09-14"}. Names are stored lower-case with underscores for spaces.',
    )
    churned_on = serializers.DateField(required=False, allow_null=True, default=None)

    def validate_domain(self, value: str) -> str:
        return _run_parser(parsing.parse_domain, value)

    def validate_country(self, value: str) -> str:
        return _run_parser(parsing.parse_country, value)

    def validate_tech_stack(self, value: list[str]) -> list[str]:
        return sorted({item.strip() for item in value if item.strip()})

    def validate_triggers(self, value: dict) -> dict[str, str]:
        triggers: dict[str, str] = {}
        for name, day in value.items():
            key = parsing.trigger_name_normalize(name)
            if not key or len(key) > parsing.MAX_TRIGGER_NAME_LENGTH:
                raise serializers.ValidationError(
                    f"Expected trigger names of 1 to {parsing.MAX_TRIGGER_NAME_LENGTH} "
                    f"characters, got {name!r}."
                )
            _run_parser(parsing.check_date_range, day)
            triggers[key] = max(triggers.get(key, ""), day.isoformat())
        return triggers

    def validate_churned_on(self, value):
        return _run_parser(parsing.check_date_range, value)


class DealFilterSerializer(UpdatedSinceSerializer):
    stage = serializers.ChoiceField(choices=Deal.Stage.choices, required=False)
    source = serializers.ChoiceField(choices=Deal.Source.choices, required=False)
    partner = serializers.IntegerField(
        min_value=1, required=False, help_text="Id of the partner credited with the deal."
    )
    close_date_from = serializers.DateField(
        required=False, help_text="Earliest close date, inclusive."
    )
    close_date_to = serializers.DateField(required=False, help_text="Latest close date, inclusive.")
    ordering = ordering_field(DEAL_ORDERINGS, "-close_date")

    def validate(self, attrs: dict) -> dict:
        start, end = attrs.get("close_date_from"), attrs.get("close_date_to")
        if start and end and start > end:
            raise serializers.ValidationError(
                {"close_date_to": "close_date_to must not be earlier than close_date_from."}
            )
        return attrs


class AccountFilterSerializer(UpdatedSinceSerializer):
    tier = serializers.ChoiceField(choices=Account.Tier.choices, required=False)
    search = serializers.CharField(
        max_length=200, required=False, help_text="Part of the account's name or domain."
    )
    # Unscored accounts come last for both fit_score directions.
    ordering = ordering_field(ACCOUNT_ORDERINGS, ACCOUNT_DEFAULT_ORDERING)


class StrictField(serializers.BooleanField):
    """A boolean that keeps its default when a multipart form omits it.

    DRF reads a boolean missing from form data as False; an omitted `strict`
    must mean the default, True.
    """

    default_empty_html = empty


class ImportInputSerializer(serializers.Serializer):
    # An empty file reaches csv_import, which records it as a failed run.
    file = serializers.FileField(
        allow_empty_file=True,
        help_text="CSV file with a header line: UTF-8, UTF-16 with a byte-order mark, or "
        "the declared encoding.",
    )
    strict = StrictField(
        default=True,
        help_text="True writes nothing when any line is invalid; false writes the valid lines.",
    )
    dry_run = serializers.BooleanField(
        default=False,
        help_text="True checks every line and counts what would change, writing nothing.",
    )
    source = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Name of the saved column mapping to use, such as 'salesforce-export'. "
        "Sent with `mapping`, the mapping and format options are saved under this name.",
    )
    mapping = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20000,
        help_text='JSON object of file header to column name, such as {"Opp ID": '
        '"external_id", "Notes": ""}; "" ignores the column.',
    )
    locale = serializers.ChoiceField(
        choices=("en", "de", "fr", "ch"),
        required=False,
        help_text="How numbers are written: en 1,234.56; de 1.234,56; fr 1 234,56; ch 1'234.56.",
    )
    date_format = serializers.ChoiceField(
        choices=("DMY", "MDY", "YMD"),
        required=False,
        help_text="Order of day, month and year in dates such as 03/04/2026.",
    )
    encoding = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=30,
        help_text="Text encoding, such as cp1252; default: from the byte-order mark, else UTF-8.",
    )
    delimiter = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=3,
        help_text="',', ';', '|' or 'tab'; default: detected from the first lines.",
    )


# Outputs


class AccountRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    name = serializers.CharField()
    domain = serializers.CharField()


class PartnerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    name = serializers.CharField()


class DealOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    name = serializers.CharField()
    stage = serializers.ChoiceField(choices=Deal.Stage.choices)
    amount = MoneyField(currency_path="currency")
    currency = serializers.CharField()
    product = serializers.CharField()
    kind = serializers.ChoiceField(choices=Deal.Kind.choices)
    engage_date = serializers.DateField(allow_null=True)
    close_date = serializers.DateField(allow_null=True)
    account = AccountRefSerializer(allow_null=True)
    partner = PartnerRefSerializer(allow_null=True)
    source = serializers.ChoiceField(choices=Deal.Source.choices)
    pipeline_status = serializers.ChoiceField(choices=Deal.PipelineStatus.choices)
    pipeline_error = serializers.CharField(
        help_text="Why the pipeline failed this deal; empty unless pipeline_status is failed."
    )
    won_fit_score = serializers.IntegerField(
        allow_null=True, help_text="The account's fit score when the deal was processed as won."
    )
    won_fit_tier = serializers.CharField(help_text="Fit tier frozen when the deal was won.")
    processed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AccountOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    name = serializers.CharField()
    domain = serializers.CharField()
    industry = serializers.CharField()
    employees = serializers.IntegerField(allow_null=True)
    annual_revenue = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2 code.")
    region = serializers.CharField()
    year_established = serializers.IntegerField(allow_null=True)
    parent_name = serializers.CharField()
    tech_stack = serializers.ListField(child=serializers.CharField())
    budget = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, help_text="Stated budget, base currency."
    )
    triggers = serializers.DictField(
        child=serializers.DateField(), help_text="Buying triggers: name to last date."
    )
    churned_on = serializers.DateField(allow_null=True)
    source = serializers.CharField()
    referred_by = PartnerRefSerializer(allow_null=True)
    referred_at = serializers.DateField(allow_null=True)
    fit_score = serializers.IntegerField(allow_null=True)
    fit_tier = serializers.CharField()
    fit_version_number = serializers.IntegerField(
        source="fit_version.number",
        allow_null=True,
        help_text="Number of the ICP version that scored the account.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="1 is the header line; 0 is the file as a whole.")
    column = serializers.CharField()
    value = serializers.CharField()
    message = serializers.CharField()
    reason = serializers.ChoiceField(
        choices=("duplicate", "personal_domain"),
        required=False,
        help_text="Reach imports only: why the line was rejected, when it is one of these.",
    )


class ImportRunOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ImportRun.Kind.choices)
    filename = serializers.CharField()
    strict = serializers.BooleanField()
    status = serializers.ChoiceField(choices=ImportRun.Status.choices)
    rows_total = serializers.IntegerField()
    rows_created = serializers.IntegerField()
    rows_updated = serializers.IntegerField()
    rows_rejected = serializers.IntegerField()
    rows_unchanged = serializers.IntegerField(
        help_text="Rows already stored with the same values (accounts and deals only)."
    )
    dry_run = serializers.BooleanField(
        help_text="True when nothing was written: rows_created and rows_updated then count "
        "the rows that would be created and updated."
    )
    source = serializers.CharField(help_text="Saved column mapping used, if any.")
    sha256 = serializers.CharField(help_text="Hex SHA-256 of the uploaded file.")
    same_file_as = serializers.IntegerField(
        allow_null=True, help_text="Id of the latest earlier import of the same file, if any."
    )
    job = JobOutputSerializer(
        allow_null=True, help_text="The worker job of a queued import, with its progress."
    )
    errors = ImportErrorSerializer(many=True)
    created_at = serializers.DateTimeField()


class FitCriterionSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField(
        help_text="category, range, tech_stack, trigger or willingness_to_pay."
    )
    field = serializers.CharField(help_text="The account field the criterion tests.")
    weight = serializers.IntegerField(help_text="Points the criterion adds when it matches.")
    knockout = serializers.BooleanField(
        help_text="True for a knock-out: matching it sets the score to 0 and the tier to D."
    )
    matched = serializers.BooleanField()
    points = serializers.IntegerField(help_text="Points earned: the weight when matched, else 0.")
    share = serializers.FloatField(help_text="The weight's share of all points, 0 to 1.")
    value = serializers.JSONField(allow_null=True, help_text="The account's value of `field`.")
    missing = serializers.BooleanField(help_text="True when the account has no value for it.")


class FitVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()


class FitExplanationSerializer(serializers.Serializer):
    score = serializers.IntegerField(allow_null=True, help_text="0-100; null with no ICP version.")
    tier = serializers.CharField(help_text="A to D; blank with no ICP version.")
    total_weight = serializers.IntegerField(help_text="Points of all criteria but knock-outs.")
    earned_points = serializers.IntegerField(
        help_text="Points of the matched criteria; the score is 0 anyway when knocked out."
    )
    knocked_out_by = serializers.ListField(
        child=serializers.CharField(), help_text="Keys of the knock-out criteria it matched."
    )
    missing = serializers.ListField(
        child=serializers.CharField(), help_text="Labels of the criteria it has no data for."
    )
    breakdown = FitCriterionSerializer(many=True)
    version = FitVersionSerializer(
        allow_null=True,
        help_text="The active ICP version, else the one that last scored the account.",
    )


class AccountDetailOutputSerializer(AccountOutputSerializer):
    fit = FitExplanationSerializer(
        help_text="The account scored now, criterion by criterion; may differ from fit_score "
        "until the next rescore."
    )


class ImportMappingOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ImportRun.Kind.choices)
    source = serializers.CharField()
    mapping = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text="File header to column name; an empty name ignores the column.",
    )
    encoding = serializers.CharField()
    delimiter = serializers.CharField()
    locale = serializers.CharField()
    date_order = serializers.CharField()
    updated_at = serializers.DateTimeField()
