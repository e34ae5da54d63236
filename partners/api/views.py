"""API views of partners, with their ICP overlap and delivered results."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from partners import lifecycle, selectors, services
from partners.api.serializers import (
    PartnerInputSerializer,
    PartnerOutputSerializer,
    PartnerStatusInputSerializer,
    ReachPushInputSerializer,
    ReachPushOutputSerializer,
    ReachPushSchemaSerializer,
)
from partners.models import Partner
from partners.reach import reach_push
from tenancy.api.views import AUTH_ERRORS, DETAIL_ERRORS, TenantApiView, error_response
from tenancy.errors import NotFound


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
    """Push companies to a partner's reach list."""

    @extend_schema(
        operation_id="partners_reach_push",
        tags=["partners"],
        summary="Merge or replace a partner's reach list",
        description=(
            "Each entry gives a company's domain, an e-mail address or a URL at it; all are "
            "stored as the registrable domain in punycode. Consumer mail domains are "
            "rejected. Rejected entries are listed by index; a strict push then writes "
            "nothing, a lenient one writes the valid entries. Pushing the same entries "
            "again changes nothing. After a change the partner's overlap score is refreshed "
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
