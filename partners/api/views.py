"""API views of partners, with their ICP overlap and delivered results."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from partners import selectors
from partners.api.serializers import PartnerOutputSerializer
from tenancy.api.views import AUTH_ERRORS, DETAIL_ERRORS, TenantApiView


class PartnerListView(TenantApiView):
    """List the tenant's partners with ICP overlap score and delivered results."""

    @extend_schema(
        operation_id="partners_list",
        tags=["partners"],
        summary="List partners, highest ICP overlap first",
        responses={200: PartnerOutputSerializer(many=True), **AUTH_ERRORS},
    )
    def get(self, request):
        return self.paginated_response(selectors.partner_list(), PartnerOutputSerializer)


class PartnerDetailView(TenantApiView):
    """Return one partner with ICP overlap score and delivered results."""

    @extend_schema(
        operation_id="partners_retrieve",
        tags=["partners"],
        summary="Get a partner",
        responses={200: PartnerOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(PartnerOutputSerializer(selectors.partner_get(pk=pk)).data)
