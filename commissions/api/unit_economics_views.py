"""API view of unit economics: expected lifetime value per ICP tier and partner cost shares."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from commissions.unit_economics import unit_economics
from tenancy.api.views import READ_ERRORS, TenantApiView


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def _ratio(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=4, **kwargs)


class TierEconomicsSerializer(serializers.Serializer):
    tier = serializers.CharField()
    customers = serializers.IntegerField()
    enough_data = serializers.BooleanField()
    average_value = _money(allow_null=True)
    churned_customers = serializers.IntegerField()
    churn_rate = _ratio(allow_null=True)
    expected_lifetime_years = _ratio(allow_null=True)
    expected_lifetime_value = _money(allow_null=True)


class PartnerEconomicsSerializer(serializers.Serializer):
    partner_id = serializers.IntegerField()
    partner_name = serializers.CharField()
    customers = serializers.IntegerField()
    customers_without_estimate = serializers.IntegerField()
    expected_lifetime_value = _money()
    commission_cost = _money()
    cost_share = _ratio(allow_null=True)
    over_limit = serializers.BooleanField()


class UnitEconomicsSerializer(serializers.Serializer):
    max_commission_share = _ratio()
    tiers = TierEconomicsSerializer(many=True)
    count = serializers.IntegerField(help_text="Number of partners on all pages.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    partners = PartnerEconomicsSerializer(many=True)


class UnitEconomicsView(TenantApiView):
    """Expected lifetime value per ICP tier and each partner's commission cost share."""

    @extend_schema(
        operation_id="unit_economics_retrieve",
        tags=["ledger"],
        summary="Get expected lifetime value per ICP tier and partner commission cost shares",
        description=(
            "Partners are sorted by cost share, highest first, and paged with `limit` and "
            "`offset`. Amounts and ratios are decimal strings."
        ),
        responses={200: UnitEconomicsSerializer, **READ_ERRORS},
    )
    def get(self, request):
        economics = unit_economics(tenant=self.tenant)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(economics.partners, request, view=self)
        data = {
            "max_commission_share": economics.max_commission_share,
            "tiers": economics.tiers,
            "count": paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "partners": page,
        }
        return Response(UnitEconomicsSerializer(data).data)
