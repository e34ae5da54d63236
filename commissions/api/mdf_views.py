"""API views of market development funds: staff budgets and decisions, and the partner portal."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from commissions import mdf, mdf_allocation, mdf_budgets, mdf_selectors
from commissions.api.mdf_serializers import (
    MdfAcceptSerializer,
    MdfAllocationOutputSerializer,
    MdfApproveSerializer,
    MdfBudgetDetailSerializer,
    MdfBudgetInputSerializer,
    MdfBudgetOutputSerializer,
    MdfClaimInputSerializer,
    MdfReasonSerializer,
    MdfReimburseSerializer,
    MdfRequestFilterSerializer,
    MdfRequestInputSerializer,
    MdfRequestOutputSerializer,
    MdfStaffRequestInputSerializer,
)
from commissions.mdf_budgets import TIER_WEIGHT_FIELDS
from commissions.mdf_models import MdfBudget
from partners import selectors as partner_selectors
from tenancy.api.views import (
    AUTH_ERRORS,
    DETAIL_ERRORS,
    READ_ERRORS,
    PartnerApiView,
    TenantApiView,
    error_response,
)
from tenancy.errors import NotFound

STEP_ERRORS = {
    400: error_response("A field is invalid, or the amount is more than allowed."),
    409: error_response("The status does not allow this step, or the allocation is spent."),
    **DETAIL_ERRORS,
}
REQUEST_CREATE_RESPONSES = {
    201: MdfRequestOutputSerializer,
    200: OpenApiResponse(
        MdfRequestOutputSerializer, description="Sent before with this idempotency key."
    ),
    400: error_response("A field is invalid, or the amount is more than what remains."),
    409: error_response(
        "The period has no allocation for the partner, or the key was used with other fields."
    ),
    **AUTH_ERRORS,
}


def _budget_detail(pk: int) -> dict:
    budget = mdf_selectors.mdf_budget_get(pk=pk)
    budget.allocations_list = list(mdf_selectors.mdf_allocation_list(budget_id=pk))
    data = MdfBudgetOutputSerializer(budget).data
    data["allocations"] = MdfAllocationOutputSerializer(budget.allocations_list, many=True).data
    return data


def _request_data(pk: int, partner_id: int | None = None) -> dict:
    return MdfRequestOutputSerializer(
        mdf_selectors.mdf_request_get(pk=pk, partner_id=partner_id)
    ).data


def _budget_for(period_text: str) -> MdfBudget:
    period = mdf_budgets.mdf_period_parse(period_text)
    budget = MdfBudget.objects.filter(period_kind=period.kind, period_start=period.start).first()
    if budget is None:
        raise NotFound(
            f"No MDF budget is set for {period.label}.",
            field="period",
            value=period.label,
            fix="Request funds in a period that has an allocated budget.",
        )
    return budget


def _request_submit(view, data: dict, partner):
    request, created = mdf.mdf_request_submit(
        partner=partner,
        budget=_budget_for(data["period"]),
        idempotency_key=data["idempotency_key"],
        title=data["title"],
        description=data["description"],
        activity_type=data["activity_type"],
        planned_start=data["planned_start"],
        planned_end=data["planned_end"],
        requested_amount=data["requested_amount"],
        actor=view.actor(),
    )
    return Response(
        _request_data(request.pk),
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


def _proof_response(proof) -> FileResponse:
    return FileResponse(
        proof.file.open("rb"),
        as_attachment=True,
        filename=proof.original_name,
        content_type=proof.content_type,
    )


class MdfBudgetListView(TenantApiView):
    """List MDF budgets, or set the budget of one period."""

    @extend_schema(
        operation_id="mdf_budgets_list",
        tags=["mdf"],
        summary="List MDF budgets, newest period first",
        responses={200: MdfBudgetOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        return self.paginated_response(mdf_selectors.mdf_budget_list(), MdfBudgetOutputSerializer)

    @extend_schema(
        operation_id="mdf_budgets_set",
        tags=["mdf"],
        summary="Create or update the MDF budget of a month or quarter",
        description=(
            "One budget per period, in the tenant's base currency. Sending the stored "
            "values again changes nothing. An allocated budget cannot change (409)."
        ),
        request=MdfBudgetInputSerializer,
        responses={
            201: MdfBudgetOutputSerializer,
            200: OpenApiResponse(MdfBudgetOutputSerializer, description="Updated or unchanged."),
            400: error_response("The period, amount, look-back or a weight is invalid."),
            409: error_response("The budget is allocated."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = MdfBudgetInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        budget, created = mdf_budgets.mdf_budget_set(
            tenant=self.tenant,
            period=mdf_budgets.mdf_period_parse(data["period"]),
            amount=data["amount"],
            lookback_months=data.get("lookback_months"),
            weights={name: data[name] for name in TIER_WEIGHT_FIELDS if name in data},
            actor=self.actor(),
        )
        return Response(
            MdfBudgetOutputSerializer(budget).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MdfBudgetDetailView(TenantApiView):
    """Return one budget with each partner's allocation, its inputs and its spend."""

    @extend_schema(
        operation_id="mdf_budgets_retrieve",
        tags=["mdf"],
        summary="Get an MDF budget with its allocations and spend",
        responses={200: MdfBudgetDetailSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(_budget_detail(pk))


class MdfBudgetAllocateView(TenantApiView):
    """Split the budget across active partners by their on-profile won revenue."""

    @extend_schema(
        operation_id="mdf_budgets_allocate",
        tags=["mdf"],
        summary="Allocate an MDF budget across partners",
        description=(
            "Weights each active partner by the won revenue credited to it in the look-back "
            "window, per frozen fit tier times the budget's tier weight. Deals in another "
            "currency are left out and counted in excluded_deal_count. Allocations add up "
            "to the budget exactly. Running it again recomputes the rows, until spend of "
            "the period is approved (409)."
        ),
        request=None,
        responses={
            200: MdfBudgetDetailSerializer,
            400: error_response("No active partner has weighted won revenue in the window."),
            409: error_response("Spend of the period is approved."),
            **DETAIL_ERRORS,
        },
    )
    def post(self, request, pk: int):
        mdf_selectors.mdf_budget_get(pk=pk)
        mdf_allocation.mdf_allocate(budget_id=pk, actor=self.actor())
        return Response(_budget_detail(pk))


class MdfRequestListView(TenantApiView):
    """List MDF requests, or submit one on a partner's behalf."""

    @extend_schema(
        operation_id="mdf_requests_list",
        tags=["mdf"],
        summary="List MDF requests, newest first",
        parameters=[MdfRequestFilterSerializer],
        responses={200: MdfRequestOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        filters = self.query_params_validate(MdfRequestFilterSerializer)
        rows = mdf_selectors.mdf_request_list(
            budget_id=filters.get("budget"),
            partner_id=filters.get("partner"),
            status=filters.get("status"),
        )
        return self.paginated_response(rows, MdfRequestOutputSerializer)

    @extend_schema(
        operation_id="mdf_requests_create",
        tags=["mdf"],
        summary="Submit an MDF request on a partner's behalf",
        request=MdfStaffRequestInputSerializer,
        responses=REQUEST_CREATE_RESPONSES,
    )
    def post(self, request):
        serializer = MdfStaffRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        partner = partner_selectors.partner_get(pk=serializer.validated_data["partner"])
        return _request_submit(self, serializer.validated_data, partner)


class MdfRequestDetailView(TenantApiView):
    @extend_schema(
        operation_id="mdf_requests_retrieve",
        tags=["mdf"],
        summary="Get an MDF request with its claim",
        responses={200: MdfRequestOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(_request_data(pk))


class _MdfStepView(TenantApiView):
    serializer_class = None

    def step(self, pk: int, data: dict) -> None:
        raise NotImplementedError

    def post(self, request, pk: int):
        mdf_selectors.mdf_request_get(pk=pk)
        data = {}
        if self.serializer_class is not None:
            serializer = self.serializer_class(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        self.step(pk, data)
        return Response(_request_data(pk))


def _step_schema(operation_id: str, summary: str, description: str, request):
    return extend_schema(
        operation_id=operation_id,
        tags=["mdf"],
        summary=summary,
        description=description,
        request=request,
        responses={200: MdfRequestOutputSerializer, **STEP_ERRORS},
    )


class MdfRequestApproveView(_MdfStepView):
    serializer_class = MdfApproveSerializer

    @_step_schema(
        "mdf_requests_approve",
        "Approve an MDF request",
        "Approves the requested amount, or a lower approved_amount. More than what remains "
        "of the partner's allocation is rejected with 409.",
        MdfApproveSerializer,
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def step(self, pk, data):
        mdf.mdf_request_approve(
            request_id=pk, approved_amount=data.get("approved_amount"), actor=self.actor()
        )


class MdfRequestRejectView(_MdfStepView):
    serializer_class = MdfReasonSerializer

    @_step_schema(
        "mdf_requests_reject",
        "Reject an MDF request",
        "The reason is shown to the partner.",
        MdfReasonSerializer,
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def step(self, pk, data):
        mdf.mdf_request_reject(request_id=pk, reason=data["reason"], actor=self.actor())


class MdfRequestCancelView(_MdfStepView):
    @_step_schema(
        "mdf_requests_cancel",
        "Cancel an MDF request",
        "Cancels a submitted request, or an approved one without a claim, and releases its funds.",
        None,
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def step(self, pk, data):
        mdf.mdf_request_cancel(request_id=pk, actor=self.actor())


class MdfClaimAcceptView(_MdfStepView):
    serializer_class = MdfAcceptSerializer

    @_step_schema(
        "mdf_claims_accept",
        "Accept the claim of an MDF request",
        "Accepts the claimed amount, or a lower reimbursed_amount; the rest of the "
        "approved amount returns to the allocation.",
        MdfAcceptSerializer,
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def step(self, pk, data):
        mdf.mdf_claim_accept(
            request_id=pk, reimbursed_amount=data.get("reimbursed_amount"), actor=self.actor()
        )


class MdfClaimRejectView(_MdfStepView):
    serializer_class = MdfReasonSerializer

    @_step_schema(
        "mdf_claims_reject",
        "Reject the claim of an MDF request",
        "The approved amount returns to the allocation. The reason is shown to the partner.",
        MdfReasonSerializer,
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def step(self, pk, data):
        mdf.mdf_claim_reject(request_id=pk, reason=data["reason"], actor=self.actor())


class MdfClaimReimburseView(_MdfStepView):
    serializer_class = MdfReimburseSerializer

    @_step_schema(
        "mdf_claims_reimburse",
        "Mark the accepted claim of an MDF request reimbursed",
        "Records the payment's reference. The same reference again changes nothing.",
        MdfReimburseSerializer,
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def step(self, pk, data):
        mdf.mdf_claim_mark_reimbursed(
            request_id=pk, payment_reference=data["payment_reference"], actor=self.actor()
        )


PROOF_RESPONSES = {
    (200, "application/octet-stream"): OpenApiResponse(
        OpenApiTypes.BINARY, description="The file as uploaded: PDF, PNG or JPEG."
    ),
    **DETAIL_ERRORS,
}


class MdfProofView(TenantApiView):
    @extend_schema(
        operation_id="mdf_proofs_retrieve",
        tags=["mdf"],
        summary="Download a proof file of an MDF claim",
        responses=PROOF_RESPONSES,
    )
    def get(self, request, pk: int):
        return _proof_response(mdf_selectors.mdf_proof_get(pk=pk))


class PortalMdfAllocationListView(PartnerApiView):
    @extend_schema(
        operation_id="portal_mdf_allocations_list",
        tags=["portal"],
        summary="The partner's own MDF allocations with their spend",
        responses={200: MdfAllocationOutputSerializer(many=True), **AUTH_ERRORS},
    )
    def get(self, request):
        rows = mdf_selectors.mdf_allocation_list(partner_id=self.partner.pk)
        return self.paginated_response(rows, MdfAllocationOutputSerializer)


class PortalMdfRequestListView(PartnerApiView):
    @extend_schema(
        operation_id="portal_mdf_requests_list",
        tags=["portal"],
        summary="The partner's own MDF requests, newest first",
        responses={200: MdfRequestOutputSerializer(many=True), **AUTH_ERRORS},
    )
    def get(self, request):
        rows = mdf_selectors.mdf_request_list(partner_id=self.partner.pk)
        return self.paginated_response(rows, MdfRequestOutputSerializer)

    @extend_schema(
        operation_id="portal_mdf_requests_create",
        tags=["portal"],
        summary="Request MDF for a marketing activity",
        request=MdfRequestInputSerializer,
        responses=REQUEST_CREATE_RESPONSES,
    )
    def post(self, request):
        serializer = MdfRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _request_submit(self, serializer.validated_data, self.partner)


class PortalMdfRequestDetailView(PartnerApiView):
    @extend_schema(
        operation_id="portal_mdf_requests_retrieve",
        tags=["portal"],
        summary="One of the partner's own MDF requests",
        responses={200: MdfRequestOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(_request_data(pk, partner_id=self.partner.pk))


class PortalMdfClaimView(PartnerApiView):
    parser_classes = (MultiPartParser, FormParser)

    @extend_schema(
        operation_id="portal_mdf_claims_create",
        tags=["portal"],
        summary="Claim an approved MDF request with proof",
        description=(
            "multipart/form-data with claimed_amount, optional notes, and one or more "
            "`files`. The claimed amount may not exceed the approved amount. A request "
            "takes one claim; sending it again with the same amount returns it with 200."
        ),
        request={"multipart/form-data": MdfClaimInputSerializer},
        responses={
            201: MdfRequestOutputSerializer,
            200: OpenApiResponse(MdfRequestOutputSerializer, description="Claimed before."),
            400: error_response("A field or a file is invalid, or the amount is too high."),
            409: error_response("The request is not approved, or has another claim."),
            **DETAIL_ERRORS,
        },
    )
    def post(self, request, pk: int):
        mdf_selectors.mdf_request_get(pk=pk, partner_id=self.partner.pk)
        serializer = MdfClaimInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        _, created = mdf.mdf_claim_submit(
            request_id=pk,
            claimed_amount=data["claimed_amount"],
            files=data["files"],
            notes=data["notes"],
            actor=self.actor(),
        )
        return Response(
            _request_data(pk, partner_id=self.partner.pk),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class PortalMdfProofView(PartnerApiView):
    @extend_schema(
        operation_id="portal_mdf_proofs_retrieve",
        tags=["portal"],
        summary="Download a proof file of one of the partner's own claims",
        responses=PROOF_RESPONSES,
    )
    def get(self, request, pk: int):
        return _proof_response(mdf_selectors.mdf_proof_get(pk=pk, partner_id=self.partner.pk))
