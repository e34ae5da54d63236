"""The partner portal's registration and link endpoints: a partner user's own rows only."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from attribution import links, referrals, selectors
from attribution.api.serializers import (
    EligibilityOutputSerializer,
    EligibilityQuerySerializer,
    PortalLinkInputSerializer,
    PortalLinkOutputSerializer,
    PortalReferralInputSerializer,
    PortalReferralOutputSerializer,
)
from attribution.domains import company_domain
from attribution.eligibility import eligibility_check
from attribution.models import Referral
from attribution.portal_check import (
    OVER_LIMIT_MESSAGE,
    check_allowed,
    eligibility_for_partner,
    score_context,
)
from tenancy.api.views import AUTH_ERRORS, READ_ERRORS, PartnerApiView, error_response


class PortalReferralListView(PartnerApiView):
    @extend_schema(
        operation_id="portal_referrals_list",
        tags=["portal"],
        summary="The partner's own registrations, newest first",
        responses={200: PortalReferralOutputSerializer(many=True), **AUTH_ERRORS},
    )
    def get(self, request):
        queryset = selectors.referral_list(partner_id=self.partner.pk)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        context = score_context(partner=self.partner, tenant=self.tenant)
        data = PortalReferralOutputSerializer(page, many=True, context=context).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="portal_referrals_create",
        tags=["portal"],
        summary="Register a company",
        description=(
            "201 with `status` approved, or conflict with the reason; a conflict is kept "
            "for the partner managers and does not count until they approve it. A domain "
            "registered before returns that registration with 200."
        ),
        request=PortalReferralInputSerializer,
        responses={
            201: PortalReferralOutputSerializer,
            200: OpenApiResponse(
                PortalReferralOutputSerializer, description="Registered by you before."
            ),
            400: error_response("A field is invalid, or the domain is a consumer mail domain."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = PortalReferralInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        field = data["company_field"]
        membership = request._request.membership
        if not check_allowed(membership_id=membership.pk, partner_id=self.partner.pk):
            raise exceptions.Throttled(detail=OVER_LIMIT_MESSAGE)

        referral, created = referrals.referral_register(
            partner=self.partner,
            company=data[field],
            company_field=field,
            company_name=data["company_name"],
            contact_email=data["contact_email"],
            notes=data["notes"],
            source=Referral.Source.PORTAL,
            actor=self.actor(),
        )

        context = score_context(partner=self.partner, tenant=self.tenant)
        return Response(
            PortalReferralOutputSerializer(referral, context=context).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class PortalReferralCheckView(PartnerApiView):
    @extend_schema(
        operation_id="portal_referrals_check",
        tags=["portal"],
        summary="Check whether you can register a company",
        description=(
            "Reads only. Returns whether the company is eligible and its fit tier when the "
            "tenant has it. The account name appears only for companies on the partner's "
            "reach list at the names or details level, the fit score only at details, and "
            "the account id never. Another partner's registration is reported without "
            "naming the partner. A partner user may run 120 checks an hour; more get 429."
        ),
        parameters=[EligibilityQuerySerializer],
        responses={200: EligibilityOutputSerializer, **READ_ERRORS},
    )
    def get(self, request):
        query = self.query_params_validate(EligibilityQuerySerializer)
        membership = request._request.membership
        if not check_allowed(membership_id=membership.pk, partner_id=self.partner.pk):
            raise exceptions.Throttled(detail=OVER_LIMIT_MESSAGE)
        domain = company_domain(query["domain"])
        result = eligibility_check(tenant=self.tenant, domain=domain, partner=self.partner)
        data = eligibility_for_partner(result, partner=self.partner, tenant=self.tenant)
        return Response(EligibilityOutputSerializer(data).data)


class PortalLinkListView(PartnerApiView):
    @extend_schema(
        operation_id="portal_links_list",
        tags=["portal"],
        summary="The partner's own tracking links with click counts",
        responses={200: PortalLinkOutputSerializer(many=True), **AUTH_ERRORS},
    )
    def get(self, request):
        queryset = selectors.link_list(partner_id=self.partner.pk)
        return self.paginated_response(queryset, PortalLinkOutputSerializer)

    @extend_schema(
        operation_id="portal_links_create",
        tags=["portal"],
        summary="Create a tracking link",
        request=PortalLinkInputSerializer,
        responses={
            201: PortalLinkOutputSerializer,
            400: error_response("The destination or label is invalid."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = PortalLinkInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        link = links.link_create(
            partner=self.partner,
            destination=data["destination"],
            label=data["label"],
            actor=self.actor(),
        )

        return Response(
            PortalLinkOutputSerializer(selectors.link_get(pk=link.pk)).data,
            status=status.HTTP_201_CREATED,
        )
