"""API writes of ICP versions: create and edit drafts, copy, delete and activate versions.

The collection and detail views extend the read-only views of `icp.api.versions`
with POST, PATCH and DELETE, so each path has one view class. Writes need an editor
role (admin or partner manager) or an API key, and `IsTenantMember` returns 403 to the
other roles.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from icp import drafts, selectors, services
from icp.activation_jobs import rescore_job_since
from icp.api.serializers import (
    IcpVersionActivationSerializer,
    IcpVersionCopyInputSerializer,
    IcpVersionOutputSerializer,
    IcpVersionWriteInputSerializer,
    IcpVersionWriteSerializer,
)
from icp.api.versions import IcpVersionDetailView, IcpVersionListView
from icp.models import IcpVersion
from tenancy.api.views import DETAIL_ERRORS, TenantApiView, error_response

WRITE_ERRORS = {
    **DETAIL_ERRORS,
    400: error_response("A field or criterion is invalid: see field, value and fix."),
}
DRAFT_ERRORS = {
    **WRITE_ERRORS,
    409: error_response("The version is active or retired, and only drafts change."),
}


class IcpVersionCollectionView(IcpVersionListView):
    """List the tenant's ICP versions, or write a new draft by hand."""

    @extend_schema(
        operation_id="icp_versions_create",
        tags=["icp"],
        summary="Create a draft ICP version from hand-written criteria",
        description=(
            "Validates the criteria and tier cut-offs and stores them as a draft with "
            "provenance manual. The draft's metrics hold its coverage: the share of the "
            "tenant's accounts in each tier. Every call stores a new draft."
        ),
        request=IcpVersionWriteSerializer,
        responses={
            201: OpenApiResponse(IcpVersionOutputSerializer, description="The new draft."),
            400: WRITE_ERRORS[400],
            401: WRITE_ERRORS[401],
            403: WRITE_ERRORS[403],
            500: WRITE_ERRORS[500],
        },
    )
    def post(self, request):
        serializer = IcpVersionWriteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        version = services.icp_version_create(
            tenant=self.tenant,
            actor=self.actor(),
            name=data["name"],
            criteria=serializer.criteria_for_service(data["criteria"]),
            tier_cutoffs=data["tier_cutoffs"],
        )
        return Response(IcpVersionOutputSerializer(version).data, status=status.HTTP_201_CREATED)


class IcpVersionItemView(IcpVersionDetailView):
    """Read one ICP version, or change or delete a draft."""

    @extend_schema(
        operation_id="icp_versions_partial_update",
        tags=["icp"],
        summary="Change a draft ICP version",
        description=(
            "Send any of name, criteria (the whole list) and tier_cutoffs. The others keep "
            "their values. A criterion that keeps its key and test keeps its learned support "
            "and lift. Changing what accounts score clears the learned signal and figures. "
            "Sending the content the draft already has changes nothing."
        ),
        request=IcpVersionWriteSerializer,
        responses={200: IcpVersionOutputSerializer, **DRAFT_ERRORS},
    )
    def patch(self, request, pk: int):
        version = selectors.icp_version_get(tenant=self.tenant, pk=pk)
        serializer = IcpVersionWriteInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        criteria = version.criteria
        if "criteria" in data:
            criteria = serializer.criteria_for_service(data["criteria"])
        updated = drafts.icp_version_update(
            version=version,
            actor=self.actor(),
            name=data.get("name", version.name),
            criteria=criteria,
            tier_cutoffs=data.get("tier_cutoffs", version.tier_cutoffs),
        )
        return Response(IcpVersionOutputSerializer(updated).data)

    @extend_schema(
        operation_id="icp_versions_destroy",
        tags=["icp"],
        summary="Delete a draft ICP version",
        request=None,
        responses={204: OpenApiResponse(description="The draft was deleted."), **DRAFT_ERRORS},
    )
    def delete(self, request, pk: int):
        version = selectors.icp_version_get(tenant=self.tenant, pk=pk)
        drafts.icp_version_delete(version=version, actor=self.actor())
        return Response(status=status.HTTP_204_NO_CONTENT)


class IcpVersionCopyView(TenantApiView):
    """Copy any ICP version into a new draft."""

    @extend_schema(
        operation_id="icp_versions_copy",
        tags=["icp"],
        summary="Copy an ICP version into a new draft",
        description=(
            "The draft has provenance copied, based on this version, with the same criteria "
            "(learned support and lift kept) and tier cut-offs. Every call stores a new draft."
        ),
        request=IcpVersionCopyInputSerializer,
        responses={
            201: OpenApiResponse(IcpVersionOutputSerializer, description="The new draft."),
            **WRITE_ERRORS,
        },
    )
    def post(self, request, pk: int):
        source = selectors.icp_version_get(tenant=self.tenant, pk=pk)
        serializer = IcpVersionCopyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        copy = drafts.icp_version_copy(
            version=source, actor=self.actor(), name=serializer.validated_data.get("name")
        )
        return Response(IcpVersionOutputSerializer(copy).data, status=status.HTTP_201_CREATED)


class IcpVersionActivateView(TenantApiView):
    """Activate a draft or retired ICP version."""

    @extend_schema(
        operation_id="icp_versions_activate",
        tags=["icp"],
        summary="Activate an ICP version",
        description=(
            "Retires the active version and rescores all accounts and partners against this "
            "one. Returns 202 with the rescore job to poll, or job null when the activation "
            "started none. Activating the version that is already active returns 200 and "
            "starts nothing. Commissions already earned keep their fit."
        ),
        request=None,
        responses={
            200: OpenApiResponse(
                IcpVersionActivationSerializer, description="The version was already active."
            ),
            202: OpenApiResponse(
                IcpVersionActivationSerializer, description="Activated, and the rescore follows."
            ),
            **WRITE_ERRORS,
        },
    )
    def post(self, request, pk: int):
        version = selectors.icp_version_get(tenant=self.tenant, pk=pk)
        if version.status == IcpVersion.Status.ACTIVE:
            body = {"version": version, "job": None}
            return Response(IcpVersionActivationSerializer(body).data, status=status.HTTP_200_OK)

        started_at = timezone.now()
        activated = services.icp_version_activate(version=version, actor=self.actor())
        job = rescore_job_since(self.tenant, activated, started_at)
        link = None
        if job is not None:
            url = request.build_absolute_uri(reverse("api-job-detail", kwargs={"pk": job.pk}))
            link = {"id": job.pk, "url": url}
        body = {"version": activated, "job": link}
        return Response(IcpVersionActivationSerializer(body).data, status=status.HTTP_202_ACCEPTED)
