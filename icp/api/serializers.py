"""Response shapes of the ICP versions API."""

from __future__ import annotations

from rest_framework import serializers

from icp.models import IcpVersion


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
    kind = serializers.ChoiceField(choices=["category", "range"])
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
    weight = serializers.IntegerField(
        help_text="Points; a score is matched points over all points, times 100."
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
