"""Query parameters, request bodies and response shapes of the fraud signal API."""

from __future__ import annotations

from rest_framework import serializers

from attribution.fraud.review import NOTE_MAX_LENGTH
from attribution.models import FraudSignal, Referral


class FraudSignalFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=FraudSignal.Status.choices, required=False)
    kind = serializers.ChoiceField(choices=FraudSignal.Kind.choices, required=False)
    partner = serializers.IntegerField(min_value=1, required=False, help_text="Partner id.")


class FraudSignalPartnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class FraudSignalReferralSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    domain = serializers.CharField()
    company_name = serializers.CharField()
    status = serializers.ChoiceField(choices=Referral.Status.choices)


class HeldAmountSerializer(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.DecimalField(
        max_digits=18, decimal_places=4, help_text="Sum of the held entries' commission."
    )
    entries = serializers.IntegerField(help_text="Number of held entries.")


class FraudSignalOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    partner = FraudSignalPartnerSerializer()
    kind = serializers.ChoiceField(choices=FraudSignal.Kind.choices)
    status = serializers.ChoiceField(choices=FraudSignal.Status.choices)
    referral = FraudSignalReferralSerializer(
        allow_null=True, help_text="The registration the signal is about; null for partner-wide."
    )
    summary = serializers.CharField(help_text="The evidence in plain language.")
    details = serializers.JSONField(help_text="The evidence as data; its keys depend on the kind.")
    held = HeldAmountSerializer(
        many=True,
        help_text="Entries held that the signal covers, per currency. An entry that two open "
        "signals cover counts for both.",
    )
    reviewed_by = serializers.CharField(
        source="reviewed_by.get_username", allow_null=True, default=None
    )
    reviewed_at = serializers.DateTimeField(allow_null=True)
    review_note = serializers.CharField()
    created_at = serializers.DateTimeField()


class DismissInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the pattern is not fraud.",
    )


class ConfirmInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, help_text="What the review found; required."
    )
