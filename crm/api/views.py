"""API views of accounts, deals and CSV imports."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from crm import selectors
from crm.api.serializers import (
    DEAL_ORDERINGS,
    AccountDetailOutputSerializer,
    AccountFilterSerializer,
    AccountOutputSerializer,
    DealFilterSerializer,
    DealInputSerializer,
    DealOutputSerializer,
    ImportInputSerializer,
    ImportRunOutputSerializer,
)
from crm.importing import csv_import, upload_size_check
from crm.models import ImportRun
from crm.selectors import ACCOUNT_ORDERINGS
from crm.services import deal_upsert
from icp.services import account_fit_explain
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

API_IMPORT_KINDS = tuple(ImportRun.Kind.values)


class DealListCreateView(TenantApiView):
    """List the tenant's deals, or create or update one by external id."""

    pagination_class = CursorOrOffsetPagination
    scope_group = "crm"

    @extend_schema(
        operation_id="deals_list",
        tags=["deals"],
        summary="List deals",
        parameters=[DealFilterSerializer],
        responses={200: DealOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        filters = self.query_params_validate(DealFilterSerializer)
        deals = selectors.deal_list(
            stage=filters.get("stage"),
            source=filters.get("source"),
            partner_id=filters.get("partner"),
            close_date_from=filters.get("close_date_from"),
            close_date_to=filters.get("close_date_to"),
        )
        deals = list_refine(deals, filters, DEAL_ORDERINGS)
        return self.paginated_response(deals, DealOutputSerializer)

    @extend_schema(
        operation_id="deals_upsert",
        tags=["deals"],
        summary="Create or update a deal by external id",
        description=(
            "Creates the deal (201) or updates the one with the same external_id (200). "
            "Sending the same body again changes nothing. A won deal enters the commission "
            "pipeline; once its commission is booked, changing stage, amount, currency, "
            "close date, account or partner returns 409."
        ),
        request=DealInputSerializer,
        responses={
            200: OpenApiResponse(DealOutputSerializer, description="The deal existed."),
            201: OpenApiResponse(DealOutputSerializer, description="The deal was created."),
            400: error_response("A field is invalid, or the account or partner is unknown."),
            409: error_response("The deal's commission is booked and a paid field changed."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = DealInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        deal, created = deal_upsert(tenant=self.tenant, **serializer.validated_data)

        deal = selectors.deal_get(pk=deal.pk)
        return Response(
            DealOutputSerializer(deal).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class DealDetailView(TenantApiView):
    """Return one of the tenant's deals."""

    @extend_schema(
        operation_id="deals_retrieve",
        tags=["deals"],
        summary="Get a deal",
        responses={200: DealOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(DealOutputSerializer(selectors.deal_get(pk=pk)).data)


class AccountListView(TenantApiView):
    """List the tenant's accounts with their stored ICP fit."""

    pagination_class = CursorOrOffsetPagination
    scope_group = "crm"

    @extend_schema(
        operation_id="accounts_list",
        tags=["accounts"],
        summary="List accounts with their ICP fit",
        parameters=[AccountFilterSerializer],
        responses={200: AccountOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        filters = self.query_params_validate(AccountFilterSerializer)
        accounts = selectors.account_list(
            tier=filters.get("tier"),
            search=filters.get("search"),
        )
        accounts = list_refine(accounts, filters, ACCOUNT_ORDERINGS)
        return self.paginated_response(accounts, AccountOutputSerializer)


class AccountDetailView(TenantApiView):
    """Return one account and its fit scored now against the ICP, criterion by criterion."""

    @extend_schema(
        operation_id="accounts_retrieve",
        tags=["accounts"],
        summary="Get an account with its fit per ICP criterion",
        responses={200: AccountDetailOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        account = selectors.account_get(pk=pk)
        account.fit = account_fit_explain(account=account)
        return Response(AccountDetailOutputSerializer(account).data)


class ImportCreateView(TenantApiView):
    """Import a CSV file of accounts, deals or partner reach and return the recorded run."""

    parser_classes = (MultiPartParser, FormParser)

    @extend_schema(
        operation_id="imports_create",
        tags=["imports"],
        summary="Import accounts, deals, reach, revenue events or exchange rates from CSV",
        description=(
            "Checks every line, then writes the valid rows keyed on external_id, so sending a "
            "file twice changes nothing the second time. A strict import (the default) writes "
            "nothing when any line is invalid. The response is the recorded import run with "
            "one error per rejected cell: 201 when rows were written, 400 when the run failed."
        ),
        parameters=[
            OpenApiParameter(
                "kind",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=list(API_IMPORT_KINDS),
                description="What the file contains.",
            )
        ],
        request={"multipart/form-data": ImportInputSerializer},
        responses={
            201: OpenApiResponse(
                ImportRunOutputSerializer, description="Rows were written; see rows_rejected."
            ),
            400: OpenApiResponse(
                ImportRunOutputSerializer,
                description=(
                    "The run failed and wrote nothing; its errors list each rejected cell. "
                    "A request rejected before the import starts (no file, unknown kind, "
                    "file too large) returns the usual error body instead."
                ),
            ),
            **AUTH_ERRORS,
        },
    )
    def post(self, request, kind: str):
        if kind not in API_IMPORT_KINDS:
            raise DomainError(
                "Unknown import kind.",
                field="kind",
                value=kind,
                fix="Post to /api/v1/imports/accounts/, /deals/, /reach/, /revenue_events/ "
                "or /exchange_rates/.",
            )
        serializer = ImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        # Checked here rather than in the serializer so the error names the file
        # instead of echoing its content as the rejected value.
        upload_size_check(upload)

        run = csv_import(
            tenant=self.tenant,
            kind=kind,
            content=upload.read(),
            filename=upload.name or "upload.csv",
            strict=serializer.validated_data["strict"],
            actor=self.actor(),
        )

        failed = run.status == ImportRun.Status.FAILED
        return Response(
            ImportRunOutputSerializer(run).data,
            status=status.HTTP_400_BAD_REQUEST if failed else status.HTTP_201_CREATED,
        )
