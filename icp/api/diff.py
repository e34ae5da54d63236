"""API view of the diff of two ICP versions, with its response shapes."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from icp import selectors
from icp.diff import ALL_TIERS, COMPARED_PARTS, CRITERION_STATUSES, icp_versions_diff
from icp.models import IcpVersion
from icp.scoring import TIERS
from tenancy.api.views import DETAIL_ERRORS, TenantApiView, error_response
from tenancy.errors import Conflict, NotFound


class IcpDiffVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField(help_text="draft, active or retired.")


class IcpDiffPartChangeSerializer(serializers.Serializer):
    part = serializers.ChoiceField(choices=COMPARED_PARTS)
    before = serializers.JSONField(allow_null=True, help_text="The part on the left version.")
    after = serializers.JSONField(allow_null=True, help_text="The part on the right version.")
    added = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Values only: values the right version adds, compared case-insensitively.",
    )
    removed = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Values only: values the right version drops.",
    )


class IcpDiffCriterionSerializer(serializers.Serializer):
    """One criterion, matched by key between the two versions."""

    key = serializers.CharField()
    status = serializers.ChoiceField(choices=CRITERION_STATUSES)
    before = serializers.DictField(
        allow_null=True, help_text="The criterion in the left version; null when added."
    )
    after = serializers.DictField(
        allow_null=True, help_text="The criterion in the right version; null when removed."
    )
    label_before = serializers.CharField(allow_null=True)
    label_after = serializers.CharField(allow_null=True)
    share_before = serializers.FloatField(
        allow_null=True,
        help_text="Weight over the total weight of the scored criteria, 0 to 1. "
        "Null when the criterion is absent or a knock-out.",
    )
    share_after = serializers.FloatField(allow_null=True)
    changes = IcpDiffPartChangeSerializer(
        many=True, help_text="The parts that differ; empty unless the status is changed."
    )


class IcpDiffTotalWeightSerializer(serializers.Serializer):
    before = serializers.IntegerField()
    after = serializers.IntegerField()


class IcpDiffCutoffSerializer(serializers.Serializer):
    tier = serializers.ChoiceField(choices=TIERS)
    before = serializers.IntegerField(allow_null=True, help_text="Lowest score of the tier.")
    after = serializers.IntegerField(allow_null=True)
    changed = serializers.BooleanField()


class IcpDiffMatrixRowSerializer(serializers.Serializer):
    tier = serializers.ChoiceField(choices=ALL_TIERS, help_text="The tier under the left version.")
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        help_text='Accounts of this tier by their tier under the right version, keys "A" to "D".',
    )
    total = serializers.IntegerField()


class IcpDiffMovedAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    score_before = serializers.IntegerField()
    score_after = serializers.IntegerField()
    tier_before = serializers.ChoiceField(choices=ALL_TIERS)
    tier_after = serializers.ChoiceField(choices=ALL_TIERS)


class IcpDiffAccountsSerializer(serializers.Serializer):
    accounts = serializers.IntegerField(help_text="Accounts scored under both versions.")
    matrix = IcpDiffMatrixRowSerializer(many=True, help_text="One row per tier, A to D.")
    after_totals = serializers.DictField(
        child=serializers.IntegerField(), help_text="Accounts per tier under the right version."
    )
    up = serializers.IntegerField(help_text="Accounts whose tier is better on the right.")
    down = serializers.IntegerField(help_text="Accounts whose tier is worse on the right.")
    unchanged = serializers.IntegerField(help_text="Accounts that keep their tier.")
    score_changed = serializers.IntegerField(help_text="Accounts whose score changes.")
    sample = IcpDiffMovedAccountSerializer(
        many=True,
        help_text="Up to 8 accounts that move most: tier steps first, then score change.",
    )


class IcpDiffOverlapSerializer(serializers.Serializer):
    on_profile_count = serializers.IntegerField(help_text="Matched reach accounts in tier A or B.")
    on_profile_share = serializers.DecimalField(max_digits=5, decimal_places=4)
    target_count = serializers.IntegerField(help_text="Tenant accounts in tier A or B, not won.")
    target_overlap_count = serializers.IntegerField()
    target_coverage = serializers.DecimalField(max_digits=5, decimal_places=4)
    overlap_score = serializers.IntegerField(help_text="0-100, as on the partner.")


class IcpDiffPartnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    reach_count = serializers.IntegerField()
    matched_count = serializers.IntegerField()
    score_before = serializers.IntegerField()
    score_after = serializers.IntegerField()
    change = serializers.IntegerField(help_text="score_after - score_before.")
    before = IcpDiffOverlapSerializer()
    after = IcpDiffOverlapSerializer()


class IcpDiffPartnersSerializer(serializers.Serializer):
    partners = serializers.IntegerField(help_text="The tenant's partners.")
    changed = serializers.IntegerField(help_text="Partners whose score or its parts change.")
    target_count_before = serializers.IntegerField()
    target_count_after = serializers.IntegerField()
    top = IcpDiffPartnerSerializer(
        many=True, help_text="Up to 10 changed partners, largest absolute score change first."
    )


class IcpVersionDiffSerializer(serializers.Serializer):
    """The changes from the left version (before) to the right version (after)."""

    left = IcpDiffVersionSerializer(help_text="The version compared against (before).")
    right = IcpDiffVersionSerializer(help_text="The version of the URL (after).")
    same_rules = serializers.BooleanField(help_text="True when criteria and cut-offs are equal.")
    total_weight = IcpDiffTotalWeightSerializer()
    criteria = IcpDiffCriterionSerializer(many=True)
    cutoffs = IcpDiffCutoffSerializer(many=True)
    accounts = IcpDiffAccountsSerializer()
    partners = IcpDiffPartnersSerializer()


class IcpVersionDiffView(TenantApiView):
    """Compare an ICP version with another one, by default the active version."""

    @extend_schema(
        operation_id="icp_versions_diff",
        tags=["icp"],
        summary="Compare an ICP version with another version",
        parameters=[
            OpenApiParameter(
                "against",
                OpenApiTypes.INT,
                OpenApiParameter.QUERY,
                required=False,
                description="Id of the version to compare against (the before side). "
                "Default: the active version.",
            )
        ],
        responses={
            200: IcpVersionDiffSerializer,
            409: error_response("No version is active and `against` is missing."),
            **DETAIL_ERRORS,
        },
    )
    def get(self, request, pk: int):
        version = selectors.icp_version_get(tenant=self.tenant, pk=pk)
        against = self._against(request.query_params.get("against", "").strip())
        diff = icp_versions_diff(tenant=self.tenant, left=against, right=version)
        return Response(IcpVersionDiffSerializer(diff).data)

    def _against(self, raw: str) -> IcpVersion:
        if not raw:
            active = selectors.icp_version_active(tenant=self.tenant)
            if active is None:
                raise Conflict(
                    "No ICP version is active, so there is no default version to compare with.",
                    field="against",
                    value=None,
                    fix="Pass ?against=<id> with the id of another version, or activate one.",
                )
            return active
        try:
            return selectors.icp_version_get(tenant=self.tenant, pk=raw)
        except NotFound:
            raise NotFound(
                f"ICP version {raw} not found.",
                field="against",
                value=raw,
                fix="Use the id of one of this tenant's ICP versions.",
            ) from None
