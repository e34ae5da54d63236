"""The partner portal's API: a partner user's session reads its own partner's data."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from partners.privacy import mapping_visibility
from tenancy.api.views import AUTH_ERRORS, PartnerApiView
from tenancy.models import Tenant


class PortalPartnerSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    tier = serializers.CharField(help_text="gold, silver, bronze, or empty for unranked.")
    mapping_visibility = serializers.ChoiceField(
        choices=Tenant.MappingVisibility.choices,
        help_text="What the partner sees of its account overlap: counts, names or details.",
    )


class PortalPartnerView(PartnerApiView):
    """Return the logged-in partner user's partner."""

    @extend_schema(
        operation_id="portal_partner_retrieve",
        tags=["portal"],
        summary="The partner of the logged-in partner user",
        responses={200: PortalPartnerSerializer, **AUTH_ERRORS},
    )
    def get(self, request):
        partner = self.partner
        data = {
            "name": partner.name,
            "kind": partner.kind,
            "status": partner.status,
            "tier": partner.tier,
            "mapping_visibility": mapping_visibility(partner=partner, tenant=self.tenant),
        }
        return Response(PortalPartnerSerializer(data).data)
