"""API view that starts learning an ICP draft from closed deals as a background job."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from icp.learning.weighting import WEIGHTING_NONE, WEIGHTINGS
from icp.learning_jobs import icp_learn_start
from icp.models import IcpVersion
from jobs.models import Job
from tenancy.api.views import AUTH_ERRORS, TenantApiView, error_response


class LearnInputSerializer(serializers.Serializer):
    weighting = serializers.ChoiceField(
        choices=list(WEIGHTINGS),
        default=WEIGHTING_NONE,
        help_text=(
            '"none": every closed deal counts once. "value": a won deal counts by its amount '
            'over the median won amount, clipped to 0.2–5. "value_and_churn": as "value", and '
            "a won deal whose account churned within 365 days counts as lost."
        ),
    )
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=IcpVersion._meta.get_field("name").max_length,
        help_text="Name of the draft; by default it is named after its number of closed deals.",
    )


class LearnJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Job.Status.choices)
    url = serializers.CharField(help_text="Where to poll the job's progress and result.")


class LearnOutputSerializer(serializers.Serializer):
    job = LearnJobSerializer()


class IcpLearnView(TenantApiView):
    """Start learning a draft ICP version from the tenant's closed deals."""

    @extend_schema(
        operation_id="icp_learn_create",
        tags=["icp"],
        summary="Learn a draft ICP version from closed deals, as a background job",
        description=(
            "Returns the job to poll at `job.url`. When it succeeds, its `result` holds the "
            "draft's `version_id`, `objective` and `signal`. While a learn job of the tenant "
            "is queued or running, the request returns that job and starts no other."
        ),
        request=LearnInputSerializer,
        responses={
            202: OpenApiResponse(
                LearnOutputSerializer,
                description="The new job, or the tenant's learn job that is still unfinished.",
            ),
            400: error_response("The weighting or the name is invalid."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = LearnInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        job, _ = icp_learn_start(
            tenant=self.tenant,
            actor=self.actor(),
            weighting=data["weighting"],
            name=data.get("name") or None,
        )

        body = {
            "job": {
                "id": job.pk,
                "status": job.status,
                "url": reverse("api-job-detail", kwargs={"pk": job.pk}),
            }
        }
        return Response(LearnOutputSerializer(body).data, status=status.HTTP_202_ACCEPTED)
