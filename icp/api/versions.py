"""API views of the tenant's ICP versions."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from icp import selectors
from icp.api.serializers import IcpVersionOutputSerializer
from tenancy.api.views import AUTH_ERRORS, DETAIL_ERRORS, TenantApiView


class IcpVersionListView(TenantApiView):
    """List the tenant's ICP versions: drafts, the active one and retired ones."""

    @extend_schema(
        operation_id="icp_versions_list",
        tags=["icp"],
        summary="List ICP versions, newest first",
        responses={200: IcpVersionOutputSerializer(many=True), **AUTH_ERRORS},
    )
    def get(self, request):
        versions = selectors.icp_version_list(tenant=self.tenant)
        return self.paginated_response(versions, IcpVersionOutputSerializer)


class IcpVersionDetailView(TenantApiView):
    """Return one ICP version with its criteria, tier cut-offs and validation figures."""

    @extend_schema(
        operation_id="icp_versions_retrieve",
        tags=["icp"],
        summary="Get an ICP version",
        responses={200: IcpVersionOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        version = selectors.icp_version_get(tenant=self.tenant, pk=pk)
        return Response(IcpVersionOutputSerializer(version).data)
