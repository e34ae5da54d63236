"""API views of partners, with their ICP overlap and delivered results."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from partners import lifecycle, selectors, services
from partners.api.serializers import (
    PartnerFilterSerializer,
    PartnerInputSerializer,
    PartnerOutputSerializer,
    PartnerRankingFilterSerializer,
    PartnerRankingRowSerializer,
    PartnerStatusInputSerializer,
    ReachEntryOutputSerializer,
    ReachFilterSerializer,
    ReachPushInputSerializer,
    ReachPushOutputSerializer,
    ReachPushSchemaSerializer,
    SegmentRulesSerializer,
)
from partners.models import Partner
from partners.overlap import FORMULA_EXPRESSION
from partners.reach import reach_push
from partners.segments import segment_rules_data
from tenancy.api.views import (
    AUTH_ERRORS,
    DETAIL_ERRORS,
    READ_ERRORS,
    TenantApiView,
    error_response,
)
from tenancy.errors import NotFound


class PartnerListView(TenantApiView):
    """List the tenant's partners with ICP overlap score and delivered results."""

    @extend_schema(
        operation_id="partners_list",
        tags=["partners"],
        summary="List partners, highest ICP overlap first",
        parameters=[PartnerFilterSerializer],
        responses={200: PartnerOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        filters = self.query_params_validate(PartnerFilterSerializer)
        partners = selectors.partner_list(segment=filters.get("segment"))
        return self.paginated_response(partners, PartnerOutputSerializer)

    @extend_schema(
        operation_id="partners_upsert",
        tags=["partners"],
        summary="Create or update a partner by external id",
        request=PartnerInputSerializer,
        responses={
            200: OpenApiResponse(PartnerOutputSerializer, description="The partner existed."),
            201: OpenApiResponse(PartnerOutputSerializer, description="The partner was created."),
            400: error_response("A field is invalid, or the owner is not tenant staff."),
            409: error_response("The partner exists and its status cannot move to this one."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = PartnerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        if "owner" in values:
            values["owner"] = services.owner_by_id(
                tenant_id=self.tenant.pk, user_id=values["owner"]
            )

        partner, created = services.partner_upsert(
            tenant=self.tenant,
            external_id=values.pop("external_id"),
            name=values.pop("name"),
            actor=self.actor(),
            **values,
        )

        return Response(
            PartnerOutputSerializer(selectors.partner_get(pk=partner.pk)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


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


class PartnerRankingView(TenantApiView):
    """Rank partners not signed yet by ICP overlap, to choose which to sign."""

    @extend_schema(
        operation_id="partners_ranking",
        tags=["partners"],
        summary="Rank prospects and applicants by ICP overlap",
        description=(
            f"Ranked by overlap score ({FORMULA_EXPRESSION}, rounded to a whole number), "
            "ties to the larger fit-weighted reach, then by name and id. Partners not scored "
            "yet come last. Each row has its overlap parts with the points each earns."
        ),
        parameters=[PartnerRankingFilterSerializer],
        responses={200: PartnerRankingRowSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        filters = self.query_params_validate(PartnerRankingFilterSerializer)
        partners = selectors.partner_ranking(statuses=filters["status"], kind=filters.get("kind"))

        paginator = self.pagination_class()
        page = paginator.paginate_queryset(partners, request, view=self)
        for position, partner in enumerate(page, start=paginator.offset + 1):
            partner.rank = position
        data = PartnerRankingRowSerializer(page, many=True).data
        return paginator.get_paginated_response(data)


class PartnerSegmentsView(TenantApiView):
    """Return the segment rules as data, with the tenant's partners per segment."""

    @extend_schema(
        operation_id="partners_segments",
        tags=["partners"],
        summary="List the partner segments and the rules that place partners in them",
        description=(
            "A partner with fewer than min_closed_deals closed deals is segmented on its "
            "overlap score alone. Filter partners by segment with "
            "GET /api/v1/partners/?segment=."
        ),
        responses={200: SegmentRulesSerializer, **AUTH_ERRORS},
    )
    def get(self, request):
        rules = segment_rules_data()
        counts = selectors.segment_counts()
        for segment in rules["segments"]:
            segment["partners"] = counts.get(segment["key"], 0)
        return Response(SegmentRulesSerializer(rules).data)


class PartnerStatusView(TenantApiView):
    """Move a partner along its status lifecycle."""

    @extend_schema(
        operation_id="partners_status_change",
        tags=["partners"],
        summary="Change a partner's status",
        description=(
            "Applies the lifecycle rules and records the change with its reason in the "
            "partner's audit history. Sending the current status again returns 200 and "
            "changes nothing."
        ),
        request=PartnerStatusInputSerializer,
        responses={
            200: PartnerOutputSerializer,
            400: error_response("A field is invalid."),
            409: error_response("The lifecycle does not allow this move from the current status."),
            **DETAIL_ERRORS,
        },
    )
    def post(self, request, pk: int):
        partner = selectors.partner_get(pk=pk)
        serializer = PartnerStatusInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        lifecycle.partner_status_change(
            partner=partner,
            status=serializer.validated_data["status"],
            actor=self.actor(),
            reason=serializer.validated_data["reason"],
        )

        return Response(PartnerOutputSerializer(selectors.partner_get(pk=pk)).data)


class ReachPushView(TenantApiView):
    """List a partner's reach list, or push companies to it."""

    scope_group = "partners"

    @extend_schema(
        operation_id="partners_reach_list",
        tags=["partners"],
        summary="List a partner's reach list",
        description="Entries by domain. The fit is the matched account's, else the entry's own "
        "fit from its firmographics.",
        parameters=[ReachFilterSerializer],
        responses={200: ReachEntryOutputSerializer(many=True), **DETAIL_ERRORS, **READ_ERRORS},
    )
    def get(self, request, pk: int):
        partner = selectors.partner_get(pk=pk)
        filters = self.query_params_validate(ReachFilterSerializer)
        entries = selectors.reach_entry_list(partner=partner, matched=filters["matched"])
        return self.paginated_response(entries, ReachEntryOutputSerializer)

    @extend_schema(
        operation_id="partners_reach_push",
        tags=["partners"],
        summary="Merge or replace a partner's reach list",
        description=(
            "Each entry gives a company's domain, an e-mail address or a URL at it; all are "
            "stored as the registrable domain in punycode. Consumer mail domains are "
            "rejected. Rejected entries are listed by index; a strict push then writes "
            "nothing, a lenient one writes the valid entries. Pushing the same entries "
            "again changes nothing. Entries may carry firmographics (industry, employees, "
            "annual_revenue, country, region, tech_stack); companies that match none of your "
            "accounts are scored on them. After a change the partner's scores are refreshed "
            "in the background."
        ),
        request=ReachPushSchemaSerializer,
        responses={
            200: ReachPushOutputSerializer,
            400: error_response("The mode is unknown or there are more than 10,000 entries."),
            **DETAIL_ERRORS,
        },
    )
    def post(self, request, pk: int):
        partner = Partner.objects.filter(pk=pk).first()
        if partner is None:
            raise NotFound(
                "No partner has this id.",
                field="id",
                value=pk,
                fix="List partners with GET /api/v1/partners/ to find the id.",
            )
        serializer = ReachPushInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        result = reach_push(
            partner=partner,
            entries=data["entries"],
            mode=data["mode"],
            strict=data["strict"],
            actor=self.actor(),
        )

        return Response(ReachPushOutputSerializer(result.as_dict()).data)
