"""Response shapes of the partners API."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm import parsing
from partners.models import Partner, PartnerScore, customer_tiers_empty
from partners.overlap import PART_KEYS, ScoreView, overlap_parts
from partners.selectors import RANKING_DEFAULT_STATUSES
from tenancy.models import Tenant

MAPPING_VISIBILITY_HELP = (
    "What the partner sees of its account overlap: counts, names or details. An empty "
    "string follows the tenant's setting."
)


class OverlapPartSerializer(serializers.Serializer):
    """One part of the overlap score, with the points it earns under the formula."""

    key = serializers.ChoiceField(choices=PART_KEYS)
    label = serializers.CharField()
    count = serializers.IntegerField(allow_null=True)
    share = serializers.DecimalField(
        max_digits=5, decimal_places=4, allow_null=True, help_text="From 0 to 1."
    )
    total = serializers.DecimalField(
        max_digits=20,
        decimal_places=2,
        allow_null=True,
        help_text="The open pipeline amount in the base currency, or the fit-weighted reach.",
    )
    points = serializers.DecimalField(
        max_digits=5, decimal_places=2, help_text="Points this part earns; 0 for context parts."
    )
    max_points = serializers.IntegerField(help_text="0 for the parts that earn no points.")
    rule = serializers.CharField(help_text="How the part is counted and scored.")


class PartnerScoreSerializer(serializers.Serializer):
    """ICP overlap parts, read from the `score_*` annotations of `partner_list`."""

    reach_count = serializers.IntegerField(
        source="score_reach_count", help_text="Companies on the partner's reach list."
    )
    matched_count = serializers.IntegerField(
        source="score_matched_count", help_text="Reach companies that are tenant accounts."
    )
    assessed_count = serializers.IntegerField(
        source="score_assessed_count",
        help_text="Matched companies plus unmatched ones scored on their own firmographics.",
    )
    on_profile_count = serializers.IntegerField(
        source="score_on_profile_count",
        help_text="Assessed companies in ICP tier A or B, in the CRM or not.",
    )
    on_profile_share = serializers.DecimalField(
        source="score_on_profile_share",
        max_digits=5,
        decimal_places=4,
        help_text="on_profile_count / assessed_count, from 0 to 1.",
    )
    unmatched_scored_count = serializers.IntegerField(
        source="score_unmatched_scored_count",
        help_text="Companies not in your CRM, scored on the firmographics in the reach list.",
    )
    unmatched_on_profile_count = serializers.IntegerField(
        source="score_unmatched_on_profile_count",
        help_text="Those of them in tier A or B; they count in on_profile_count.",
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
    pipeline_overlap_count = serializers.IntegerField(
        source="score_pipeline_overlap_count",
        help_text="Reach accounts with an open deal.",
    )
    pipeline_overlap_amount = serializers.DecimalField(
        source="score_pipeline_overlap_amount",
        max_digits=20,
        decimal_places=2,
        help_text="Sum of those open deals, in the base currency.",
    )
    customer_overlap_count = serializers.IntegerField(
        source="score_customer_overlap_count",
        help_text="Reach accounts with a won deal that have not churned.",
    )
    fit_weighted_reach = serializers.DecimalField(
        source="score_fit_weighted_reach",
        max_digits=14,
        decimal_places=2,
        help_text="Sum of the fit scores of the reach / 100, matched or not.",
    )
    fit_weighted_per_entry = serializers.DecimalField(
        source="score_fit_weighted_per_entry",
        max_digits=5,
        decimal_places=4,
        help_text="fit_weighted_reach / reach_count, from 0 to 1.",
    )
    on_profile_points = serializers.DecimalField(
        source="score_on_profile_points",
        max_digits=5,
        decimal_places=2,
        help_text="60 × on_profile_share.",
    )
    coverage_points = serializers.DecimalField(
        source="score_coverage_points",
        max_digits=5,
        decimal_places=2,
        help_text="40 × min(1, target_coverage / 0.25).",
    )
    overlap_score = serializers.IntegerField(
        source="score_overlap_score",
        help_text=(
            "0-100: on_profile_points + coverage_points, computed from the unrounded "
            "parts and rounded half to even."
        ),
    )
    parts = serializers.SerializerMethodField(
        help_text="Every part in display order, with the points it earns."
    )
    computed_at = serializers.DateTimeField(source="score_computed_at", allow_null=True)

    @extend_schema_field(OverlapPartSerializer(many=True))
    def get_parts(self, partner) -> list[dict]:
        if partner.score_overlap_score is None:
            return []
        parts = overlap_parts(ScoreView(partner))
        return OverlapPartSerializer([part._asdict() for part in parts], many=True).data


class CustomerTiersSerializer(serializers.Serializer):
    A = serializers.IntegerField()
    B = serializers.IntegerField()
    C = serializers.IntegerField()
    D = serializers.IntegerField()
    unscored = serializers.IntegerField()

    def to_representation(self, instance):
        # A tier without customers may be missing from the stored counts.
        return super().to_representation({**customer_tiers_empty(), **(instance or {})})


class PartnerQualitySerializer(serializers.Serializer):
    """Results of the deals credited to the partner, as of the last score refresh."""

    won_deal_count = serializers.IntegerField(source="score_won_deal_count")
    lost_deal_count = serializers.IntegerField(source="score_lost_deal_count")
    win_rate = serializers.DecimalField(
        source="score_win_rate",
        max_digits=5,
        decimal_places=4,
        allow_null=True,
        help_text="won / (won + lost); null when the partner has no closed deals.",
    )
    won_revenue = serializers.DecimalField(
        source="score_won_revenue", max_digits=20, decimal_places=2
    )
    on_profile_won_revenue = serializers.DecimalField(
        source="score_on_profile_won_revenue",
        max_digits=20,
        decimal_places=2,
        help_text="Won revenue of deals whose fit tier frozen at won time is A or B.",
    )
    customer_count = serializers.IntegerField(
        source="score_customer_count", help_text="Distinct accounts with a credited won deal."
    )
    customer_tiers = CustomerTiersSerializer(
        source="score_customer_tiers",
        help_text="Customers by the tier of their first credited won deal.",
    )
    on_profile_customer_share = serializers.DecimalField(
        source="score_on_profile_customer_share",
        max_digits=5,
        decimal_places=4,
        allow_null=True,
        help_text="Customers in tier A or B / customer_count; null without customers.",
    )
    churned_customer_count = serializers.IntegerField(source="score_churned_customer_count")
    churn_rate = serializers.DecimalField(
        source="score_churn_rate",
        max_digits=5,
        decimal_places=4,
        allow_null=True,
        help_text="churned_customer_count / customer_count; null without customers.",
    )
    commission_cost = serializers.DecimalField(
        source="score_commission_cost",
        max_digits=20,
        decimal_places=4,
        help_text="Sum of the partner's ledger entries that are not void.",
    )
    lifetime_value = serializers.DecimalField(
        source="score_lifetime_value",
        max_digits=20,
        decimal_places=2,
        help_text=(
            "Won amount of the customers' credited deals net of churn: a deal on a churned "
            "account counts amount × min(1, days from close to churn / 365), and 0 "
            "without a close date."
        ),
    )
    commission_to_lifetime_value = serializers.DecimalField(
        source="score_commission_to_lifetime_value",
        max_digits=12,
        decimal_places=4,
        allow_null=True,
        help_text="commission_cost / lifetime_value; null when lifetime_value is 0.",
    )


class PartnerSegmentSerializer(serializers.Serializer):
    key = serializers.ChoiceField(source="score_segment", choices=PartnerScore.Segment.choices)
    basis = serializers.ChoiceField(
        source="score_segment_basis",
        choices=PartnerScore.SegmentBasis.choices,
        help_text="overlap_only when the partner has too few closed deals for its results.",
    )


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
    mapping_visibility = serializers.ChoiceField(
        choices=Tenant.MappingVisibility.choices,
        allow_blank=True,
        help_text=MAPPING_VISIBILITY_HELP,
    )
    score = PartnerScoreSerializer(
        source="*", allow_null=True, help_text="ICP overlap; null until it has been computed."
    )
    quality = PartnerQualitySerializer(
        source="*",
        allow_null=True,
        help_text="Results as the segment rules read them; null until the score is computed.",
    )
    segment = PartnerSegmentSerializer(
        source="*",
        allow_null=True,
        help_text="The segment of GET /api/v1/partners/segments/; null until computed.",
    )
    rollup = PartnerRollupSerializer(source="*", help_text="Results the partner has delivered.")
    created_at = serializers.DateTimeField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # overlap_score is never null on a PartnerScore row, so null means no row.
        if instance.score_overlap_score is None:
            data["score"] = data["quality"] = data["segment"] = None
        elif not instance.score_segment:
            # A score row written before the segment rules ran has no segment yet.
            data["segment"] = None
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
    mapping_visibility = serializers.ChoiceField(
        choices=Tenant.MappingVisibility.choices,
        required=False,
        allow_blank=True,
        help_text=MAPPING_VISIBILITY_HELP,
        error_messages={
            "invalid_choice": (
                '"{input}" is not a visibility level. Send counts, names or details, or an '
                "empty string to follow the tenant's setting."
            )
        },
    )

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
    """One company of a pushed reach list; give exactly one of domain, email or url.

    The firmographic fields are optional: left out keeps the stored value, null or
    empty clears it. Companies that match none of your accounts are scored on them.
    """

    domain = serializers.CharField(required=False, help_text="Such as acme.com.")
    email = serializers.CharField(required=False, help_text="An address at the company.")
    url = serializers.CharField(required=False, help_text="A URL on the company's site.")
    company_name = serializers.CharField(required=False, max_length=255)
    industry = serializers.CharField(required=False, allow_null=True, max_length=100)
    employees = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    annual_revenue = serializers.DecimalField(
        required=False,
        allow_null=True,
        max_digits=14,
        decimal_places=2,
        help_text="In the tenant's base currency.",
    )
    country = serializers.CharField(
        required=False, allow_null=True, help_text="A country name or ISO code, such as DE."
    )
    region = serializers.CharField(required=False, allow_null=True, max_length=100)
    tech_stack = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        allow_null=True,
        max_length=200,
        help_text='Such as ["salesforce", "aws"]; a text separated by ";" works too.',
    )


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
    field = serializers.CharField(
        help_text="domain, email, url, company_name, a firmographic field or entries."
    )
    value = serializers.JSONField(allow_null=True)
    message = serializers.CharField()
    fix = serializers.CharField()
    reason = serializers.ChoiceField(choices=("invalid", "personal_domain"))


class ReachEntryOutputSerializer(serializers.Serializer):
    """One company of a partner's reach list, with the fit that counts for it."""

    id = serializers.IntegerField()
    domain = serializers.CharField()
    company_name = serializers.CharField()
    source = serializers.CharField()
    account_id = serializers.IntegerField(
        allow_null=True, help_text="Id of the matched account, if any."
    )
    industry = serializers.CharField()
    employees = serializers.IntegerField(allow_null=True)
    annual_revenue = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, help_text="In the base currency."
    )
    country = serializers.CharField()
    region = serializers.CharField()
    tech_stack = serializers.ListField(child=serializers.CharField())
    fit_score = serializers.SerializerMethodField(
        help_text="The matched account's fit, else the entry's own fit; null when unscored."
    )
    fit_tier = serializers.SerializerMethodField(help_text="A to D, or empty when unscored.")
    updated_at = serializers.DateTimeField()

    def get_fit_score(self, entry) -> int | None:
        return entry.account.fit_score if entry.account is not None else entry.fit_score

    def get_fit_tier(self, entry) -> str:
        return entry.account.fit_tier if entry.account is not None else entry.fit_tier


class ReachFilterSerializer(serializers.Serializer):
    matched = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: only entries that match an account; false: only unmatched ones.",
    )


class ReachPushOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=("succeeded", "partial", "failed"),
        help_text="failed: nothing was written; partial: the valid entries were written.",
    )
    total = serializers.IntegerField()
    accepted = serializers.IntegerField(help_text="Distinct valid domains now on the list.")
    created = serializers.IntegerField()
    updated = serializers.IntegerField(
        help_text="Entries whose company name or firmographics changed."
    )
    unchanged = serializers.IntegerField()
    removed = serializers.IntegerField(help_text="Entries removed by mode replace.")
    duplicates = serializers.IntegerField(help_text="Entries repeating an earlier domain.")
    rejected_personal = serializers.IntegerField(help_text="Consumer mail domains.")
    rejected_invalid = serializers.IntegerField()
    errors = ReachEntryErrorSerializer(many=True)


class PartnerFilterSerializer(serializers.Serializer):
    segment = serializers.ChoiceField(
        choices=PartnerScore.Segment.choices,
        required=False,
        help_text="Only partners in this segment.",
    )


class PartnerRankingFilterSerializer(serializers.Serializer):
    status = serializers.CharField(
        required=False,
        default=",".join(RANKING_DEFAULT_STATUSES),
        help_text=(
            "Comma-separated partner statuses to rank, such as prospect,applied (the "
            f"default). One of: {', '.join(Partner.Status.values)}."
        ),
    )
    kind = serializers.ChoiceField(
        choices=Partner.Kind.choices, required=False, help_text="Only partners of this kind."
    )

    def validate_status(self, value: str) -> list[str]:
        statuses = [status.strip() for status in value.split(",") if status.strip()]
        unknown = [status for status in statuses if status not in Partner.Status.values]
        if unknown or not statuses:
            raise serializers.ValidationError(
                f"Unknown status {', '.join(unknown) or '(none)'}: use a comma-separated list "
                f"of {', '.join(Partner.Status.values)}."
            )
        return list(dict.fromkeys(statuses))


class PartnerRankingRowSerializer(serializers.Serializer):
    """One ranked partner: its place, a link to it and its overlap parts."""

    rank = serializers.IntegerField(help_text="Place in the ranking, from 1.")
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Partner.Kind.choices)
    status = serializers.ChoiceField(choices=Partner.Status.choices)
    url = serializers.SerializerMethodField(help_text="The partner in the API.")
    segment = PartnerSegmentSerializer(source="*", allow_null=True)
    score = PartnerScoreSerializer(
        source="*", allow_null=True, help_text="ICP overlap; null until computed, ranked last."
    )

    def get_url(self, partner) -> str:
        return reverse("api-partner-detail", args=[partner.pk])

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.score_overlap_score is None:
            data["score"] = data["segment"] = None
        elif not instance.score_segment:
            data["segment"] = None
        return data


class SegmentConditionSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(
        choices=(
            "closed_deal_count",
            "overlap_score",
            "good_results",
            "win_rate",
            "on_profile_customer_share",
            "churn_rate",
            "commission_to_lifetime_value",
        ),
        help_text="good_results is true when every condition of good_results holds.",
    )
    label = serializers.CharField()
    operator = serializers.ChoiceField(choices=(">=", "<", "<=", "="))
    value = serializers.JSONField(help_text="A number, a decimal as a string, or a boolean.")


class SegmentRuleSerializer(serializers.Serializer):
    basis = serializers.ChoiceField(choices=PartnerScore.SegmentBasis.choices)
    basis_label = serializers.CharField()
    conditions = SegmentConditionSerializer(many=True, help_text="All of them hold.")
    text = serializers.CharField()


class SegmentSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=PartnerScore.Segment.choices)
    label = serializers.CharField()
    description = serializers.CharField()
    partners = serializers.IntegerField(help_text="The tenant's partners in this segment now.")
    rules = SegmentRuleSerializer(many=True, help_text="A partner matching any rule is in it.")


class SegmentRulesSerializer(serializers.Serializer):
    min_closed_deals = serializers.IntegerField(
        help_text="Closed deals a partner needs before its results count; with fewer, the "
        "segment comes from the overlap score alone."
    )
    good_results = SegmentConditionSerializer(many=True)
    good_results_text = serializers.CharField()
    segments = SegmentSerializer(
        many=True, help_text="Exactly one rule of one segment matches any partner."
    )
