"""API of the ICP review: status with the drift report, completing a review, drafting from drift."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from icp.api.serializers import IcpVersionOutputSerializer
from icp.drift import icp_drift_report
from icp.drift_draft import icp_draft_from_drift
from icp.review import (
    MAX_NOTE_LENGTH,
    ReviewState,
    icp_review_complete,
    icp_review_status,
)
from tenancy.api.views import AUTH_ERRORS, TenantApiView, error_response
from tenancy.errors import Conflict, NotFound

REVIEW_STATES = [
    ReviewState.OVERDUE,
    ReviewState.DUE,
    ReviewState.UPCOMING,
    ReviewState.OK,
    ReviewState.UNSCHEDULED,
]


class VersionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    name = serializers.CharField()


class ReviewStatusSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=REVIEW_STATES,
        help_text="overdue, due (today), upcoming (within 14 days), ok, or unscheduled "
        "(no due date).",
    )
    due_on = serializers.DateField(allow_null=True)
    days_left = serializers.IntegerField(
        allow_null=True, help_text="Days until the due date; negative when overdue."
    )
    today = serializers.DateField(help_text="The tenant's date in its time zone.")
    version = VersionRefSerializer()
    reviewed_at = serializers.DateTimeField(allow_null=True)


class TierMixRowSerializer(serializers.Serializer):
    tier = serializers.CharField()
    wins = serializers.IntegerField(help_text="Wins since activation, accounts scored today.")
    share = serializers.FloatField(allow_null=True)
    frozen_wins = serializers.IntegerField(help_text="Wins by the tier stored when won.")
    frozen_share = serializers.FloatField(allow_null=True)
    expected_share = serializers.FloatField(
        allow_null=True, help_text="Share of the version's learned won deals; null without one."
    )
    change_points = serializers.FloatField(
        allow_null=True, help_text="share - expected_share, in percentage points."
    )


class TierMixSerializer(serializers.Serializer):
    rows = TierMixRowSerializer(many=True)
    frozen_unscored = serializers.IntegerField(help_text="Wins stored without a tier.")
    has_baseline = serializers.BooleanField()
    baseline = serializers.CharField(allow_null=True)


class OutsideSegmentSerializer(serializers.Serializer):
    dimension = serializers.ChoiceField(
        choices=["industry", "country", "employee_band", "revenue_band"]
    )
    dimension_label = serializers.CharField()
    field = serializers.CharField()
    label = serializers.CharField()
    value = serializers.CharField(allow_null=True, help_text="The category; null for a band.")
    min = serializers.FloatField(allow_null=True, help_text="Band lower edge, inclusive.")
    max = serializers.FloatField(allow_null=True, help_text="Band upper edge, exclusive.")
    wins = serializers.IntegerField()
    share_of_wins = serializers.FloatField(allow_null=True)
    off_profile_wins = serializers.IntegerField(help_text="Wins on tier C or D accounts.")
    off_profile_share = serializers.FloatField(allow_null=True)
    wins_before = serializers.IntegerField()
    share_before = serializers.FloatField(allow_null=True)
    growing = serializers.BooleanField(
        help_text="True when the share of wins rose by a quarter or more since activation."
    )
    rewarded_by = serializers.ListField(child=serializers.CharField())


class StoppedValueSerializer(serializers.Serializer):
    criterion_key = serializers.CharField()
    criterion_label = serializers.CharField()
    kind = serializers.CharField()
    field = serializers.CharField()
    label = serializers.CharField()
    value = serializers.CharField(allow_null=True)
    min = serializers.FloatField(allow_null=True)
    max = serializers.FloatField(allow_null=True)
    wins_before = serializers.IntegerField()
    share_before = serializers.FloatField(allow_null=True)
    expected_wins = serializers.FloatField()
    actual_wins = serializers.IntegerField()
    share_now = serializers.FloatField(allow_null=True)


class ChurnRowSerializer(serializers.Serializer):
    tier = serializers.CharField(help_text='A, B, C, D or "all".')
    customers = serializers.IntegerField()
    churned = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)


class DriftReportSerializer(serializers.Serializer):
    version = VersionRefSerializer()
    since = serializers.DateField(help_text="First day of the period, the activation date.")
    since_basis = serializers.ChoiceField(choices=["activation", "creation"])
    today = serializers.DateField()
    wins_since = serializers.IntegerField()
    wins_before = serializers.IntegerField()
    min_wins = serializers.IntegerField()
    enough_wins = serializers.BooleanField(
        help_text="False when too few wins since activation; then there are no findings."
    )
    message = serializers.CharField()
    rules = serializers.ListField(child=serializers.CharField())
    tier_mix = TierMixSerializer()
    outside = OutsideSegmentSerializer(many=True)
    stopped = StoppedValueSerializer(many=True)
    churn = ChurnRowSerializer(many=True)
    not_assessed = serializers.ListField(child=serializers.CharField())
    has_findings = serializers.BooleanField()


class ReviewOutputSerializer(serializers.Serializer):
    status = ReviewStatusSerializer()
    drift = DriftReportSerializer()


class ReviewCompleteInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_NOTE_LENGTH, default=""
    )


NO_ACTIVE_FIX = "Activate an ICP version first, then review it."


def _active_status(tenant, error_class):
    review = icp_review_status(tenant=tenant)
    if review.version is None:
        raise error_class(
            "No ICP version is active, so there is nothing to review.",
            field="version",
            value=None,
            fix=NO_ACTIVE_FIX,
        )
    return review


class IcpReviewView(TenantApiView):
    """Return the active version's review status and its drift report."""

    @extend_schema(
        operation_id="icp_review_retrieve",
        tags=["icp"],
        summary="Get the ICP review status and drift report",
        responses={
            200: ReviewOutputSerializer,
            404: error_response("No ICP version is active."),
            **AUTH_ERRORS,
        },
    )
    def get(self, request):
        review = _active_status(self.tenant, NotFound)
        report = icp_drift_report(tenant=self.tenant, version=review.version)
        return Response(ReviewOutputSerializer({"status": review.as_dict(), "drift": report}).data)


class IcpReviewCompleteView(TenantApiView):
    """Record a completed review of the active version and schedule the next one."""

    @extend_schema(
        operation_id="icp_review_complete",
        tags=["icp"],
        summary="Complete the active ICP version's review",
        description="A second call on the same tenant date records nothing new.",
        request=ReviewCompleteInputSerializer,
        responses={
            200: ReviewStatusSerializer,
            400: error_response("The note is invalid."),
            409: error_response("No ICP version is active."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = ReviewCompleteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = _active_status(self.tenant, Conflict)
        icp_review_complete(
            version=review.version, actor=self.actor(), note=serializer.validated_data["note"]
        )
        updated = icp_review_status(tenant=self.tenant)
        return Response(ReviewStatusSerializer(updated.as_dict()).data)


class IcpDriftDraftView(TenantApiView):
    """Create a draft version from the active version's drift findings."""

    @extend_schema(
        operation_id="icp_drift_draft_create",
        tags=["icp"],
        summary="Draft a new ICP version from the drift findings",
        description="A repeat within 60 seconds returns the same draft with status 200.",
        request=None,
        responses={
            201: OpenApiResponse(IcpVersionOutputSerializer, description="The new draft."),
            200: OpenApiResponse(
                IcpVersionOutputSerializer, description="The draft created moments ago."
            ),
            409: error_response(
                "No active version, too few wins since activation, or no findings."
            ),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        draft, created = icp_draft_from_drift(tenant=self.tenant, actor=self.actor())
        return Response(
            IcpVersionOutputSerializer(draft).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
