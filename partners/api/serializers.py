"""Response shapes of the partners API."""

from __future__ import annotations

from rest_framework import serializers

from crm import parsing
from partners.models import Partner


class PartnerScoreSerializer(serializers.Serializer):
    """ICP overlap parts, read from the `score_*` annotations of `partner_list`."""

    reach_count = serializers.IntegerField(
        source="score_reach_count", help_text="Companies on the partner's reach list."
    )
    matched_count = serializers.IntegerField(
        source="score_matched_count", help_text="Reach companies that are tenant accounts."
    )
    on_profile_count = serializers.IntegerField(
        source="score_on_profile_count", help_text="Matched accounts in ICP tier A or B."
    )
    on_profile_share = serializers.DecimalField(
        source="score_on_profile_share",
        max_digits=5,
        decimal_places=4,
        help_text="on_profile_count / matched_count, from 0 to 1.",
    )
    target_count = serializers.IntegerField(
        source="score_target_count", help_text="Tenant accounts in tier A or B with no won deal."
    )
    target_overlap_count = serializers.IntegerField(
        source="score_target_overlap_count", help_text="Target accounts on the reach list."
    )
    target_coverage = serializers.DecimalField(
        source="score_target_coverage",
        max_digits=5,
        decimal_places=4,
        help_text="target_overlap_count / target_count, from 0 to 1.",
    )
    overlap_score = serializers.IntegerField(
        source="score_overlap_score",
        help_text=(
            "0-100: up to 60 points for on_profile_share plus up to 40 for "
            "target_coverage, which earns all 40 at 0.25."
        ),
    )
    computed_at = serializers.DateTimeField(source="score_computed_at", allow_null=True)


class TierMixEntrySerializer(serializers.Serializer):
    deals = serializers.IntegerField()
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2)


class PartnerRollupSerializer(serializers.Serializer):
    """Delivered results, read from the `rollup_*` annotations of `partner_list`."""

    won_deals = serializers.IntegerField(source="rollup_won_deals")
    lost_deals = serializers.IntegerField(source="rollup_lost_deals")
    won_revenue = serializers.DecimalField(
        source="rollup_won_revenue", max_digits=16, decimal_places=2
    )
    on_profile_revenue = serializers.DecimalField(
        source="rollup_on_profile_revenue",
        max_digits=16,
        decimal_places=2,
        help_text="Won revenue on accounts in tier A or B when the deal was won.",
    )
    tier_mix = serializers.DictField(
        source="rollup_tier_mix",
        child=TierMixEntrySerializer(),
        help_text='Won deals and revenue per fit tier ("A" to "D", or "unscored").',
    )
    commission_total = serializers.DecimalField(
        source="rollup_commission_total",
        max_digits=16,
        decimal_places=2,
        help_text="Sum of the partner's ledger entries that are not void.",
    )
    refreshed_at = serializers.DateTimeField(source="rollup_refreshed_at", allow_null=True)


class PartnerOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Partner.Kind.choices)
    status = serializers.ChoiceField(choices=Partner.Status.choices)
    domain = serializers.CharField()
    owner = serializers.IntegerField(
        source="owner_id",
        allow_null=True,
        help_text="User id of the admin or partner manager who owns the partner; null for none.",
    )
    tier = serializers.ChoiceField(
        choices=Partner.Tier.choices, help_text="gold, silver or bronze; empty when unranked."
    )
    notes = serializers.CharField()
    score = PartnerScoreSerializer(
        source="*", allow_null=True, help_text="ICP overlap; null until it has been computed."
    )
    rollup = PartnerRollupSerializer(source="*", help_text="Results the partner has delivered.")
    created_at = serializers.DateTimeField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # overlap_score is never null on a PartnerScore row, so null means no row.
        if instance.score_overlap_score is None:
            data["score"] = None
        return data


class PartnerInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(
        max_length=100, help_text="The partner's id in your system; the API upserts on it."
    )
    name = serializers.CharField(max_length=200)
    # Fields left out keep their stored value; a new partner gets the model defaults
    # (kind referral, status active, no domain or description).
    kind = serializers.ChoiceField(choices=Partner.Kind.choices, required=False)
    status = serializers.ChoiceField(choices=Partner.Status.choices, required=False)
    domain = serializers.CharField(
        max_length=253, required=False, allow_blank=True, help_text="Web domain or URL."
    )
    description = serializers.CharField(required=False, allow_blank=True)
    owner = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="User id of an admin or partner manager of the tenant; null for none.",
    )
    tier = serializers.ChoiceField(
        choices=Partner.Tier.choices,
        required=False,
        allow_blank=True,
        help_text="gold, silver or bronze; an empty string for unranked.",
    )
    notes = serializers.CharField(required=False, allow_blank=True)

    def validate_domain(self, value: str) -> str:
        try:
            return parsing.parse_domain(value)
        except ValueError as error:
            raise serializers.ValidationError(f"Expected {error}.") from None


class PartnerStatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=Partner.Status.choices,
        help_text=(
            "The new status. Allowed moves: prospect to applied, active or terminated; "
            "applied to active or terminated; active to paused or terminated; paused to "
            "active or terminated. Terminated is final."
        ),
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text="Why the status changes; stored in the partner's audit history.",
    )


class ReachEntryInputSerializer(serializers.Serializer):
    """One company of a pushed reach list; give exactly one of domain, email or url."""

    domain = serializers.CharField(required=False, help_text="Such as acme.com.")
    email = serializers.CharField(required=False, help_text="An address at the company.")
    url = serializers.CharField(required=False, help_text="A URL on the company's site.")
    company_name = serializers.CharField(required=False, max_length=255)


class ReachPushInputSerializer(serializers.Serializer):
    # Entries are checked one by one in `partners.reach`, so a bad entry is reported by
    # index instead of failing the request. The schema documents their shape.
    entries = serializers.ListField(
        child=serializers.JSONField(),
        allow_empty=True,
        help_text="At most 10,000 entries a request.",
    )
    mode = serializers.ChoiceField(
        choices=("merge", "replace"),
        default="merge",
        help_text="merge adds to the list; replace also removes entries not sent.",
    )
    strict = serializers.BooleanField(
        default=False, help_text="Write nothing when any entry is rejected."
    )


class ReachPushSchemaSerializer(ReachPushInputSerializer):
    entries = ReachEntryInputSerializer(many=True, help_text="At most 10,000 entries a request.")


class ReachEntryErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the entry in the request, from 0.")
    field = serializers.CharField(help_text="domain, email, url, company_name or entries.")
    value = serializers.JSONField(allow_null=True)
    message = serializers.CharField()
    fix = serializers.CharField()
    reason = serializers.ChoiceField(choices=("invalid", "personal_domain"))


class ReachPushOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=("succeeded", "partial", "failed"),
        help_text="failed: nothing was written; partial: the valid entries were written.",
    )
    total = serializers.IntegerField()
    accepted = serializers.IntegerField(help_text="Distinct valid domains now on the list.")
    created = serializers.IntegerField()
    updated = serializers.IntegerField(help_text="Entries whose company name changed.")
    unchanged = serializers.IntegerField()
    removed = serializers.IntegerField(help_text="Entries removed by mode replace.")
    duplicates = serializers.IntegerField(help_text="Entries repeating an earlier domain.")
    rejected_personal = serializers.IntegerField(help_text="Consumer mail domains.")
    rejected_invalid = serializers.IntegerField()
    errors = ReachEntryErrorSerializer(many=True)
