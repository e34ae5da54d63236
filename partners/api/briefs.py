"""Staff API view of a partner's brief, with every detail and the excluded accounts."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from partners import privacy, selectors
from partners.api.portal import PortalBriefSerializer
from partners.briefs import partner_brief
from tenancy.api.views import DETAIL_ERRORS, READ_ERRORS, TenantApiView


class StaffBriefSerializer(PortalBriefSerializer):
    customer_count = serializers.IntegerField(
        help_text="On-profile accounts in the reach that already have a won deal."
    )
    open_pipeline_count = serializers.IntegerField(
        help_text="On-profile accounts in the reach with an open deal."
    )
    other_partner_count = serializers.IntegerField(
        help_text="On-profile accounts in the reach registered by another partner."
    )


class PartnerBriefView(TenantApiView):
    """Return a partner's brief as staff see it: the prospects with tier, score and reasons."""

    @extend_schema(
        operation_id="partners_brief_retrieve",
        tags=["partners"],
        summary="A partner's brief: its on-profile prospects to bring forward",
        description=(
            "The brief at the details level, whatever the partner may see, plus the counts "
            "of on-profile accounts left out because they are customers, in open pipeline "
            "or registered by another partner. Prospects come best fit first, in pages of "
            "100 by default and 1000 at most (`limit`, `offset`)."
        ),
        responses={200: StaffBriefSerializer, **READ_ERRORS, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        partner = selectors.partner_get(pk=pk)
        brief = partner_brief(partner=partner)
        shown = privacy.brief_present(brief=brief, level=privacy.Visibility.DETAILS)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(shown.prospects, request, view=self)
        data = {
            "visibility": privacy.Visibility.DETAILS,
            "summary": shown.summary_text,
            "icp_version": shown.icp_version,
            "strengths": [{"label": label, "points": points} for label, points in shown.strengths],
            "knockouts": list(shown.knockouts),
            "headline": brief.headline,
            "on_profile_count": shown.on_profile_count,
            "prospect_count": shown.prospect_count,
            "customer_count": brief.customer_count,
            "open_pipeline_count": brief.open_pipeline_count,
            "other_partner_count": brief.other_partner_count,
            "criteria_truncated": shown.criteria_truncated,
            "count": paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": page,
        }
        return Response(StaffBriefSerializer(data).data)
