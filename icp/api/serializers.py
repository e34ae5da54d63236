"""Request and response shapes of the ICP versions API."""

from __future__ import annotations

import math

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from icp.models import IcpVersion
from icp.scoring import KIND_LABELS, TECH_MATCHES


class SupportSerializer(serializers.Serializer):
    deals = serializers.IntegerField(help_text="Closed deals on matching accounts.")
    accounts = serializers.IntegerField(help_text="Matching accounts with closed deals.")


class LiftSerializer(serializers.Serializer):
    win_rate = serializers.FloatField(allow_null=True, help_text="Win rate over the base rate.")
    won_value = serializers.FloatField(
        allow_null=True, help_text="Mean won value per account over the base mean."
    )
    lifetime_value = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text=(
            "Mean won value per account net of churn over the base mean; a churned "
            "account's won amount counts for the share of a year it stayed."
        ),
    )


class CriterionSerializer(serializers.Serializer):
    """One weighted criterion, matched against accounts as `icp.scoring` describes.

    Every key is present, and the keys that the criterion's kind does not use are null.
    """

    key = serializers.CharField()
    label = serializers.CharField()
    field = serializers.CharField(help_text="The account field the criterion tests.")
    kind = serializers.ChoiceField(choices=list(KIND_LABELS))
    values = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        allow_null=True,
        help_text="Matching values of a category criterion, compared case-insensitively.",
    )
    min = serializers.FloatField(
        required=False, allow_null=True, help_text="Lowest matching value of a range, inclusive."
    )
    max = serializers.FloatField(
        required=False, allow_null=True, help_text="Upper bound of a range, exclusive."
    )
    match = serializers.ChoiceField(
        choices=list(TECH_MATCHES),
        required=False,
        allow_null=True,
        help_text="Tech stack: whether an account uses any, all or at_least count of values.",
    )
    count = serializers.IntegerField(
        required=False, allow_null=True, help_text="Tech stack with match at_least: how many."
    )
    trigger = serializers.CharField(
        required=False, allow_null=True, help_text="Trigger: the buying trigger's name."
    )
    within_days = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Trigger: at most this many days before the scoring date.",
    )
    weight = serializers.IntegerField(
        help_text="Points; a score is matched points over all points, times 100."
    )
    knockout = serializers.BooleanField(
        default=False, help_text="A match scores 0 and tier D; knock-outs carry weight 0."
    )
    negate = serializers.BooleanField(
        default=False, help_text="Match accounts that have a value and fail the test."
    )
    support = SupportSerializer(
        required=False,
        allow_null=True,
        help_text="Learned criteria: the closed deals and accounts that match.",
    )
    lift = LiftSerializer(
        required=False,
        allow_null=True,
        help_text="Learned criteria: outcome when matched, relative to all accounts (1.0 = same).",
    )


class IcpVersionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=IcpVersion.Status.choices)
    provenance = serializers.ChoiceField(choices=IcpVersion.Provenance.choices)
    objective = serializers.CharField(
        help_text='What learned criteria predict: "won" or "won_value".'
    )
    signal = serializers.CharField(help_text="strong, weak or none; blank for manual versions.")
    summary = serializers.CharField()
    criteria = CriterionSerializer(many=True)
    tier_cutoffs = serializers.DictField(
        child=serializers.IntegerField(),
        help_text='Lowest score of tiers "A", "B" and "C"; lower scores are tier D.',
    )
    metrics = serializers.DictField(help_text="Validation figures such as cross-validated ROC AUC.")
    trained_from = serializers.DateField(allow_null=True)
    trained_to = serializers.DateField(allow_null=True)
    review_due_on = serializers.DateField(allow_null=True)
    activated_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    based_on = serializers.IntegerField(
        source="based_on_id",
        allow_null=True,
        help_text="The id of the version this one was copied or drafted from.",
    )


@extend_schema_field(OpenApiTypes.NUMBER)
class NumberField(serializers.Field):
    """A finite JSON number, kept as an integer or a float as sent."""

    default_error_messages = {
        "invalid": "Send a finite JSON number, such as 1000 or 2500.5, or null.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float) or not math.isfinite(data):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class CriterionInputSerializer(serializers.Serializer):
    """One hand-written criterion. Each kind reads its own keys, as `icp.scoring` describes.

    category: values. range: field and min and/or max. tech_stack: values, match and,
    for at_least, count. trigger: trigger and within_days. willingness_to_pay: field
    budget or deal_size, and min and/or max.
    """

    key = serializers.CharField(help_text="Unique within the version, up to 60 characters.")
    label = serializers.CharField(
        required=False, allow_blank=True, help_text="Written from the test when empty."
    )
    kind = serializers.ChoiceField(choices=list(KIND_LABELS))
    field = serializers.CharField(
        required=False,
        help_text="The account field to test; optional for tech_stack and trigger.",
    )
    values = serializers.ListField(child=serializers.CharField(), required=False, allow_null=True)
    min = NumberField(required=False, allow_null=True, help_text="Inclusive lower bound.")
    max = NumberField(required=False, allow_null=True, help_text="Exclusive upper bound.")
    match = serializers.ChoiceField(choices=list(TECH_MATCHES), required=False, allow_null=True)
    count = serializers.IntegerField(required=False, allow_null=True)
    trigger = serializers.CharField(required=False, allow_null=True)
    within_days = serializers.IntegerField(required=False, allow_null=True)
    weight = serializers.IntegerField(
        required=False, help_text="Points from 1 to 1,000; omit or send 0 for a knock-out."
    )
    knockout = serializers.BooleanField(required=False)
    negate = serializers.BooleanField(required=False)
    support = SupportSerializer(
        required=False, allow_null=True, help_text="Learned evidence, kept as sent."
    )
    lift = LiftSerializer(
        required=False, allow_null=True, help_text="Learned evidence, kept as sent."
    )


class IcpVersionWriteSerializer(serializers.Serializer):
    """The content of a draft: a POST sends every field, a PATCH any of them."""

    name = serializers.CharField(allow_blank=True, trim_whitespace=False)
    criteria = CriterionInputSerializer(many=True, allow_empty=True)
    tier_cutoffs = serializers.DictField(
        child=serializers.IntegerField(),
        help_text='Lowest score of tiers "A", "B" and "C", with 100 >= A > B > C >= 0.',
    )

    @staticmethod
    def criteria_for_service(criteria: list) -> list:
        """Return the criteria as plain dicts without the keys that were sent as null.

        Items that are not objects pass through, so the service's validation names them.
        """
        return [
            {key: _plain(value) for key, value in criterion.items() if value is not None}
            if isinstance(criterion, dict)
            else criterion
            for criterion in criteria
        ]


class IcpVersionWriteInputSerializer(IcpVersionWriteSerializer):
    """Parse a write, leaving criteria and cut-offs as sent.

    IcpVersionWriteSerializer documents the request in the OpenAPI schema. Parsing
    with it would coerce "10" to 10 and [1, 2] to ["1", "2"], and would report
    errors by list position. This parser hands the raw values to icp.scoring, which
    rejects wrong types and names each error by criterion key, value and fix.
    """

    criteria = serializers.ListField(child=serializers.JSONField(), allow_empty=True)
    tier_cutoffs = serializers.JSONField()


def _plain(value):
    return dict(value) if isinstance(value, dict) else value


class IcpVersionCopyInputSerializer(serializers.Serializer):
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text='The new draft\'s name; default "Copy of v<number> <name>".',
    )


class JobLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField(help_text="Poll this URL for the job's progress.")


class IcpVersionActivationSerializer(serializers.Serializer):
    version = IcpVersionOutputSerializer()
    job = JobLinkSerializer(
        allow_null=True,
        help_text="The rescore job the activation started; null when it started none.",
    )
