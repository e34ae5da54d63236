"""Staff and API-key endpoints: registrations, eligibility, links, conversions, settings."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from attribution import links, referrals, rules, selectors, touches
from attribution.api.serializers import (
    REFERRAL_ORDERINGS,
    AttributionSettingsSerializer,
    ConversionInputSerializer,
    ConversionOutputSerializer,
    EligibilityOutputSerializer,
    LinkFilterSerializer,
    LinkInputSerializer,
    LinkOutputSerializer,
    ReferralFilterSerializer,
    ReferralInputSerializer,
    ReferralOutputSerializer,
    ReviewInputSerializer,
    StaffEligibilityQuerySerializer,
)
from attribution.domains import company_domain
from attribution.eligibility import eligibility_check
from attribution.models import Referral
from crm.selectors import account_by_reference
from partners import selectors as partner_selectors
from tenancy.api.listing import list_refine
from tenancy.api.pagination import CursorOrOffsetPagination
from tenancy.api.views import (
    AUTH_ERRORS,
    DETAIL_ERRORS,
    READ_ERRORS,
    TenantApiView,
    error_response,
)
from tenancy.errors import DomainError

REFERRAL_CREATED = OpenApiResponse(
    ReferralOutputSerializer,
    description="Stored now: `status` is approved, or conflict with the reason in "
    "`conflict` and `conflict_message`.",
)
REFERRAL_EXISTING = OpenApiResponse(
    ReferralOutputSerializer, description="The partner registered this domain before; unchanged."
)


def _company(data: dict) -> tuple[str, str]:
    """Return the company reference and the request field that named it."""
    field = data["company_field"]
    if field == "account_external_id":
        account = account_by_reference(external_id=data["account_external_id"], domain=None)
        if not account.domain:
            raise DomainError(
                "The account has no domain, and registrations are keyed by domain.",
                field="account_external_id",
                value=data["account_external_id"],
                fix="Import the account's domain first, or send the company's domain instead.",
            )
        return account.domain, field
    return data[field], field


class ReferralListView(TenantApiView):
    """List registrations, or register a company for a partner."""

    pagination_class = CursorOrOffsetPagination
    scope_group = "partners"

    @extend_schema(
        operation_id="referrals_list",
        tags=["attribution"],
        summary="List registrations, newest first",
        parameters=[ReferralFilterSerializer],
        responses={200: ReferralOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        filters = self.query_params_validate(ReferralFilterSerializer)
        domain = company_domain(filters["domain"]) if filters.get("domain") else ""
        referrals = selectors.referral_list(
            status=filters.get("status", ""),
            conflict=filters.get("conflict", ""),
            partner_id=filters.get("partner"),
            domain=domain,
        )
        referrals = list_refine(referrals, filters, REFERRAL_ORDERINGS)
        return self.paginated_response(referrals, ReferralOutputSerializer)

    @extend_schema(
        operation_id="referrals_create",
        tags=["attribution"],
        summary="Register a company for a partner (deal registration)",
        description=(
            "Checks eligibility under a lock on the company's domain: a customer, an open "
            "deal of another partner or direct sales, or another partner's unexpired "
            "registration makes it a conflict. Conflicts are stored too and returned with "
            "201 and `status` conflict; they never count for attribution until a partner "
            "manager approves them. Registering a domain the partner registered before "
            "returns that registration with 200."
        ),
        request=ReferralInputSerializer,
        responses={
            201: REFERRAL_CREATED,
            200: REFERRAL_EXISTING,
            400: error_response(
                "A field is invalid, the partner is unknown or inactive, or the company is "
                "a consumer mail domain."
            ),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = ReferralInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        partner = partner_selectors.partner_by_external_id(external_id=data["partner_external_id"])
        company, field = _company(data)

        referral, created = referrals.referral_register(
            partner=partner,
            company=company,
            company_field=field,
            company_name=data["company_name"],
            contact_email=data["contact_email"],
            notes=data["notes"],
            source=Referral.Source.API,
            actor=self.actor(),
            registered_on=data["referred_at"],
        )

        return Response(
            ReferralOutputSerializer(selectors.referral_get(pk=referral.pk)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ReferralDetailView(TenantApiView):
    @extend_schema(
        operation_id="referrals_retrieve",
        tags=["attribution"],
        summary="Get a registration",
        responses={200: ReferralOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(ReferralOutputSerializer(selectors.referral_get(pk=pk)).data)


class ReferralReviewView(TenantApiView):
    """Approve or reject a registration; `decision` comes from the URL."""

    decision = ""

    def post(self, request, pk: int):
        referral = selectors.referral_get(pk=pk)
        serializer = ReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        referrals.referral_review(
            referral=referral,
            decision=self.decision,
            note=serializer.validated_data["note"],
            actor=self.actor(),
        )

        return Response(ReferralOutputSerializer(selectors.referral_get(pk=pk)).data)


REVIEW_DESCRIPTION = (
    "Writes the note and the reviewer, records an audit event and attributes the "
    "company's unbooked deals again. Repeating the current decision changes nothing."
)


class ReferralApproveView(ReferralReviewView):
    decision = "approve"

    @extend_schema(
        operation_id="referrals_approve",
        tags=["attribution"],
        summary="Approve a conflicting or rejected registration",
        description=REVIEW_DESCRIPTION,
        request=ReviewInputSerializer,
        responses={
            200: ReferralOutputSerializer,
            400: error_response("The note is missing or too long."),
            **DETAIL_ERRORS,
        },
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class ReferralRejectView(ReferralReviewView):
    decision = "reject"

    @extend_schema(
        operation_id="referrals_reject",
        tags=["attribution"],
        summary="Reject an approved or conflicting registration",
        description=REVIEW_DESCRIPTION,
        request=ReviewInputSerializer,
        responses={
            200: ReferralOutputSerializer,
            400: error_response("The note is missing or too long."),
            **DETAIL_ERRORS,
        },
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class ReferralCheckView(TenantApiView):
    @extend_schema(
        operation_id="referrals_check",
        tags=["attribution"],
        summary="Check whether a company can be registered",
        description=(
            "Reads only. Returns the account and its fit when the tenant has it, and "
            "whether it is eligible or which conflict applies, with the holder of a "
            "registration. With `partner`, that partner's own registration and its own "
            "open deals are taken into account."
        ),
        parameters=[StaffEligibilityQuerySerializer],
        responses={200: EligibilityOutputSerializer, **READ_ERRORS},
    )
    def get(self, request):
        query = self.query_params_validate(StaffEligibilityQuerySerializer)
        partner = None
        if query.get("partner") is not None:
            partner = partner_selectors.partner_list().filter(pk=query["partner"]).first()
            if partner is None:
                raise DomainError(
                    "No partner has this id.",
                    field="partner",
                    value=query["partner"],
                    fix="List partners with GET /api/v1/partners/, or leave partner out.",
                )
        domain = company_domain(query["domain"])
        result = eligibility_check(tenant=self.tenant, domain=domain, partner=partner)
        return Response(EligibilityOutputSerializer(result.as_dict(reveal_holder=True)).data)


class LinkListView(TenantApiView):
    @extend_schema(
        operation_id="links_list",
        tags=["attribution"],
        summary="List tracking links with their click counts",
        parameters=[LinkFilterSerializer],
        responses={200: LinkOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        filters = self.query_params_validate(LinkFilterSerializer)
        queryset = selectors.link_list(partner_id=filters.get("partner"), active=filters["active"])
        return self.paginated_response(queryset, LinkOutputSerializer)

    @extend_schema(
        operation_id="links_create",
        tags=["attribution"],
        summary="Create a tracking link for a partner",
        description=(
            "The destination must be an http or https URL on one of the tenant's link hosts "
            "(PUT /api/v1/settings/attribution/), without a user name or password."
        ),
        request=LinkInputSerializer,
        responses={
            201: LinkOutputSerializer,
            400: error_response("The destination, label or partner is invalid."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = LinkInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        partner = partner_selectors.partner_by_external_id(external_id=data["partner_external_id"])

        link = links.link_create(
            partner=partner,
            destination=data["destination"],
            label=data["label"],
            actor=self.actor(),
        )

        return Response(
            LinkOutputSerializer(selectors.link_get(pk=link.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class LinkDetailView(TenantApiView):
    """Return one of the tenant's tracking links with its click count."""

    scope_group = "partners"

    @extend_schema(
        operation_id="links_retrieve",
        tags=["attribution"],
        summary="Get a tracking link",
        responses={200: LinkOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(LinkOutputSerializer(selectors.link_get(pk=pk)).data)


class LinkDeactivateView(TenantApiView):
    @extend_schema(
        operation_id="links_deactivate",
        tags=["attribution"],
        summary="Deactivate a tracking link",
        description="The link's URL then shows a not-found page. Deactivating twice is a no-op.",
        request=None,
        responses={200: LinkOutputSerializer, **DETAIL_ERRORS},
    )
    def post(self, request, pk: int):
        link = selectors.link_get(pk=pk)
        links.link_deactivate(link=link, actor=self.actor())
        return Response(LinkOutputSerializer(selectors.link_get(pk=pk)).data)


class ConversionView(TenantApiView):
    @extend_schema(
        operation_id="touches_create",
        tags=["attribution"],
        summary="Report that a link visitor became a company",
        description=(
            "Each click of the visitor until now becomes a link touch on the company's "
            "domain for the link's partner, dated at the click; clicks the worker writes "
            "later follow. The company's unbooked deals are attributed again. Reporting the "
            "same visitor and company again returns 200 and adds nothing."
        ),
        request=ConversionInputSerializer,
        responses={
            201: ConversionOutputSerializer,
            200: OpenApiResponse(ConversionOutputSerializer, description="Reported before."),
            400: error_response("The visitor id or company is invalid."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = ConversionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        field = data["company_field"]

        result = touches.conversion_record(
            tenant=self.tenant,
            visitor_id=data["visitor_id"],
            company=data[field],
            field_name=field,
            reported_by=self.request.user.get_username(),
        )

        return Response(
            ConversionOutputSerializer(result).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


def _settings_data(tenant) -> dict:
    return {
        "attribution_window_days": tenant.attribution_window_days,
        "attribution_touch": tenant.attribution_touch,
        "link_domains": tenant.link_domains,
    }


class AttributionSettingsView(TenantApiView):
    @extend_schema(
        operation_id="settings_attribution_retrieve",
        tags=["settings"],
        summary="The attribution window, touch rule and link hosts",
        responses={200: AttributionSettingsSerializer, **AUTH_ERRORS},
    )
    def get(self, request):
        return Response(AttributionSettingsSerializer(_settings_data(self.tenant)).data)

    @extend_schema(
        operation_id="settings_attribution_update",
        tags=["settings"],
        summary="Change the attribution window, touch rule or link hosts",
        description=(
            "Fields left out keep their value. A new window or touch rule re-attributes "
            "every unbooked deal in the worker; booked deals keep their partner."
        ),
        request=AttributionSettingsSerializer,
        responses={
            200: AttributionSettingsSerializer,
            400: error_response("A field is invalid."),
            **AUTH_ERRORS,
        },
    )
    def put(self, request):
        serializer = AttributionSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant = rules.attribution_settings_set(
            tenant=self.tenant, actor=self.actor(), **serializer.validated_data
        )
        return Response(AttributionSettingsSerializer(_settings_data(tenant)).data)
