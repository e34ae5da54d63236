"""API view of background jobs, for clients that poll the progress of work they started."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from jobs.api.serializers import JobOutputSerializer
from jobs.selectors import job_get
from tenancy.api.views import DETAIL_ERRORS, TenantApiView


class JobDetailView(TenantApiView):
    """Return one background job with its status and progress."""

    @extend_schema(
        operation_id="jobs_retrieve",
        tags=["jobs"],
        summary="Get a background job's status and progress",
        responses={200: JobOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(JobOutputSerializer(job_get(tenant=self.tenant, pk=pk)).data)
