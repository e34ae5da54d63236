"""The partner portal's API: a partner user's session reads its own partner's data.

The overlap, brief and reach endpoints cut every response to the partner's mapping
visibility through `partners.privacy`. A field the level hides is left out of the
response, never sent as null.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from partners import privacy
from partners.briefs import partner_brief
from tenancy.api.views import AUTH_ERRORS, READ_ERRORS, PartnerApiView, TenantPagination
from tenancy.models import Tenant

NAMES_AND_DETAILS = "Only at names and details, and only on rows that match an account."
DETAILS_ONLY = "Only at details, and only on rows that match an account."


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
            "mapping_visibility": privacy.mapping_visibility(partner=partner, tenant=self.tenant),
        }
        return Response(PortalPartnerSerializer(data).data)


class LevelSerializer(serializers.Serializer):
    """A response shape whose optional fields appear only when the data has their key.

    DRF would send a missing nullable field as null, which would mark a field the
    level hides as present but empty.
    """

    def to_representation(self, instance: dict) -> dict:
        data = super().to_representation(instance)
        return {key: value for key, value in data.items() if key in instance}


class OverlapCountsSerializer(serializers.Serializer):
    reach_count = serializers.IntegerField(help_text="Companies on the partner's reach list.")
    matched_count = serializers.IntegerField(help_text="Reach companies that are accounts.")
    on_profile_count = serializers.IntegerField(help_text="Matched accounts in ICP tier A or B.")
    customer_count = serializers.IntegerField(help_text="Matched accounts with a won deal.")
    open_pipeline_count = serializers.IntegerField(
        help_text="Matched accounts with an open deal and no won deal."
    )
    prospect_count = serializers.IntegerField(
        help_text=(
            "On-profile matched accounts with no won or open deal that no other partner "
            "registered: the prospects to bring."
        )
    )


class PortalRowSerializer(LevelSerializer):
    """One reach entry; the keys present depend on the mapping visibility."""

    domain = serializers.CharField(help_text="As the partner's reach list gives it.")
    company_name = serializers.CharField(help_text="As the partner's reach list gives it.")
    account_name = serializers.CharField(required=False, help_text=NAMES_AND_DETAILS)
    on_profile = serializers.BooleanField(
        required=False, help_text=f"The account is in ICP tier A or B. {NAMES_AND_DETAILS}"
    )
    prospect_to_bring = serializers.BooleanField(
        required=False,
        help_text=(
            "On profile, with no won or open deal, and registered by no other partner. "
            f"{NAMES_AND_DETAILS}"
        ),
    )
    tier = serializers.CharField(
        required=False, help_text=f"ICP tier A to D, empty when unscored. {DETAILS_ONLY}"
    )
    fit_score = serializers.IntegerField(
        required=False, allow_null=True, help_text=f"0-100, null when unscored. {DETAILS_ONLY}"
    )
    criteria = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=f"Labels of up to 3 ICP criteria the account matches. {DETAILS_ONLY}",
    )
    relationship = serializers.ChoiceField(
        choices=privacy.Relationship.VALUES,
        required=False,
        help_text=f"customer (won deal), open_pipeline (open deal) or prospect. {DETAILS_ONLY}",
    )


class PortalReachRowSerializer(PortalRowSerializer):
    matched = serializers.BooleanField(
        required=False,
        help_text="The company is one of the tenant's accounts. Only at names and details.",
    )


class PortalOverlapSerializer(LevelSerializer):
    visibility = serializers.ChoiceField(choices=Tenant.MappingVisibility.choices)
    explanation = serializers.CharField(help_text="What the program shares at this level.")
    counts = OverlapCountsSerializer()
    count = serializers.IntegerField(
        required=False, help_text="Matched reach entries. Only at names and details."
    )
    next = serializers.URLField(required=False, allow_null=True)
    previous = serializers.URLField(required=False, allow_null=True)
    results = PortalRowSerializer(
        many=True,
        required=False,
        help_text=(
            "The matched reach entries: at names with account_name, on_profile and "
            "prospect_to_bring; at details also tier, fit_score, criteria and relationship. "
            "Left out at counts."
        ),
    )


class PortalReachSerializer(serializers.Serializer):
    visibility = serializers.ChoiceField(choices=Tenant.MappingVisibility.choices)
    explanation = serializers.CharField(help_text="What the program shares at this level.")
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PortalReachRowSerializer(
        many=True,
        help_text=(
            "Every entry of the partner's reach list. At counts only domain and "
            "company_name; at names and details also matched, and the matched rows carry "
            "the fields of their level."
        ),
    )


class IcpStrengthSerializer(serializers.Serializer):
    label = serializers.CharField()
    points = serializers.IntegerField(help_text="Points of a 100-point fit score.")


class PortalProspectSerializer(LevelSerializer):
    account_name = serializers.CharField()
    domain = serializers.CharField()
    tier = serializers.CharField(required=False, help_text="A or B. Only at details.")
    fit_score = serializers.IntegerField(
        required=False, allow_null=True, help_text="0-100. Only at details."
    )
    criteria = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Labels of up to 3 ICP criteria the account matches. Only at details.",
    )


class PortalBriefSerializer(LevelSerializer):
    visibility = serializers.ChoiceField(choices=Tenant.MappingVisibility.choices)
    summary = serializers.CharField(help_text="The active ICP version in plain words.")
    icp_version = serializers.IntegerField(
        allow_null=True, help_text="Number of the active ICP version; null when none is active."
    )
    strengths = IcpStrengthSerializer(many=True)
    knockouts = serializers.ListField(child=serializers.CharField())
    headline = serializers.CharField()
    on_profile_count = serializers.IntegerField(help_text="Matched accounts in tier A or B.")
    prospect_count = serializers.IntegerField(help_text="Prospects to bring forward.")
    note = serializers.CharField(
        required=False, help_text="Only at counts: says that the program shares counts only."
    )
    criteria_truncated = serializers.BooleanField(
        required=False,
        help_text="Only at details: true when only the first 200 prospects list criteria.",
    )
    count = serializers.IntegerField(
        required=False, help_text="Prospects. Only at names and details."
    )
    next = serializers.URLField(required=False, allow_null=True)
    previous = serializers.URLField(required=False, allow_null=True)
    results = PortalProspectSerializer(
        many=True,
        required=False,
        help_text=(
            "The prospects: at names account_name and domain, sorted by account name; at "
            "details also tier, fit_score and criteria, best fit first. Left out at counts."
        ),
    )


class PortalPageView(PartnerApiView):
    """A portal endpoint that pages through rows with `limit` and `offset`."""

    def page(self, rows) -> tuple[list, dict]:
        """Return one page of `rows` and its `count`, `next` and `previous` keys."""
        paginator = TenantPagination()
        page = paginator.paginate_queryset(rows, self.request, view=self)
        links = {
            "count": paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
        }
        return list(page), links


PAGE_DESCRIPTION = (
    "The partner's mapping visibility (counts, names or details) decides which fields "
    "appear; a field the level hides is left out, not sent as null. Pages hold 100 rows "
    "by default and 1000 at most (`limit`, `offset`)."
)


class PortalOverlapView(PortalPageView):
    """Return the overlap of the partner's reach with the tenant's accounts."""

    @extend_schema(
        operation_id="portal_overlap_retrieve",
        tags=["portal"],
        summary="The partner's account overlap at its mapping visibility",
        description=(
            f"{PAGE_DESCRIPTION} At counts the response has only visibility, explanation "
            "and counts; at names and details it also pages through the matched reach "
            "entries."
        ),
        responses={200: PortalOverlapSerializer, **READ_ERRORS},
    )
    def get(self, request):
        visibility = privacy.visibility_get(partner=self.partner, tenant=self.tenant)
        data = {
            "visibility": visibility.level,
            "explanation": visibility.explanation,
            "counts": privacy.overlap_counts(partner=self.partner).as_dict(),
        }
        if visibility.shows_rows:
            rows = privacy.reach_rows(
                partner=self.partner, level=visibility.level, matched_only=True
            )
            page, links = self.page(rows)
            data.update(links)
            data["results"] = privacy.rows_present(
                partner=self.partner, level=visibility.level, rows=page, with_matched=False
            )
        return Response(PortalOverlapSerializer(data).data)


class PortalReachView(PortalPageView):
    """Return the partner's own reach list, with match fields at names and details."""

    @extend_schema(
        operation_id="portal_reach_list",
        tags=["portal"],
        summary="The partner's reach list at its mapping visibility",
        description=(
            f"{PAGE_DESCRIPTION} Every level lists each entry's domain and company name as "
            "the partner gave them; at counts they are sorted by domain and carry no mark "
            "of a match. At names and details, matched entries come first."
        ),
        responses={200: PortalReachSerializer, **READ_ERRORS},
    )
    def get(self, request):
        visibility = privacy.visibility_get(partner=self.partner, tenant=self.tenant)
        rows = privacy.reach_rows(partner=self.partner, level=visibility.level)
        page, links = self.page(rows)
        data = {
            "visibility": visibility.level,
            "explanation": visibility.explanation,
            **links,
            "results": privacy.rows_present(
                partner=self.partner, level=visibility.level, rows=page
            ),
        }
        return Response(PortalReachSerializer(data).data)


class PortalBriefView(PortalPageView):
    """Return the partner's brief at its mapping visibility."""

    @extend_schema(
        operation_id="portal_brief_retrieve",
        tags=["portal"],
        summary="The partner's brief at its mapping visibility",
        description=(
            f"{PAGE_DESCRIPTION} At counts the brief gives the ICP summary and the number "
            "of prospects with a note that the program shares counts only; at names and "
            "details it also pages through the prospects."
        ),
        responses={200: PortalBriefSerializer, **READ_ERRORS},
    )
    def get(self, request):
        visibility = privacy.visibility_get(partner=self.partner, tenant=self.tenant)
        brief = privacy.brief_present(
            brief=partner_brief(partner=self.partner), level=visibility.level
        )
        data = {
            "visibility": visibility.level,
            "summary": brief.summary_text,
            "icp_version": brief.icp_version,
            "strengths": [{"label": label, "points": points} for label, points in brief.strengths],
            "knockouts": list(brief.knockouts),
            "headline": brief.headline,
            "on_profile_count": brief.on_profile_count,
            "prospect_count": brief.prospect_count,
        }
        if brief.prospects is None:
            data["note"] = brief.note
        else:
            page, links = self.page(brief.prospects)
            data.update(links)
            data["results"] = page
        if visibility.level == privacy.Visibility.DETAILS:
            data["criteria_truncated"] = brief.criteria_truncated
        return Response(PortalBriefSerializer(data).data)
