"""API views of accounts, deals and CSV imports."""

from __future__ import annotations

import json

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
    ImportMappingOutputSerializer,
    ImportRunOutputSerializer,
)
from crm.importing import upload_size_check
from crm.importing.mappings import file_format_resolve, mappings_list
from crm.importing.uploads import import_request, same_file_run
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
from tenancy.errors import DomainError, NotFound
from tenancy.idempotency import IDEMPOTENCY_PARAMETER, idempotent

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
        parameters=[IDEMPOTENCY_PARAMETER],
        request=DealInputSerializer,
        responses={
            200: OpenApiResponse(DealOutputSerializer, description="The deal existed."),
            201: OpenApiResponse(DealOutputSerializer, description="The deal was created."),
            400: error_response("A field is invalid, or the account or partner is unknown."),
            409: error_response(
                "The deal's commission is booked and a paid field changed, or a request "
                "with this Idempotency-Key is still running."
            ),
            422: error_response("The Idempotency-Key was used with a different request."),
            **AUTH_ERRORS,
        },
    )
    @idempotent
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


def _import_output(run: ImportRun) -> dict:
    run.same_file = same_file_run(run)
    run.same_file_as = run.same_file.pk if run.same_file else None
    return ImportRunOutputSerializer(run).data


def _mapping_parse(raw: str | None):
    if raw is None or not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise DomainError(
            "The column mapping is not valid JSON.",
            field="mapping",
            value=raw[:200],
            fix='Send a JSON object such as {"Opp ID": "external_id"}.',
        ) from None


class ImportCreateView(TenantApiView):
    """Import a CSV file of accounts, deals or partner reach and return the recorded run."""

    scope_group = "crm"
    parser_classes = (MultiPartParser, FormParser)

    @extend_schema(
        operation_id="imports_create",
        tags=["imports"],
        summary="Import accounts, deals, reach, revenue events or exchange rates from CSV",
        description=(
            "Checks every line, then writes the valid rows keyed on external_id, so sending a "
            "file twice changes nothing the second time. A strict import (the default) writes "
            "nothing when any line is invalid; a dry run writes nothing and counts what would "
            "change. Files up to TRACK360_IMPORT_INLINE_MAX_BYTES (1 MiB by default) import "
            "during the request: 201 when rows were written, 200 for a dry run, 400 when the "
            "run failed. Larger files return 202 with a queued run; poll "
            "GET /api/v1/imports/{id}/ for its progress and outcome."
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
            200: OpenApiResponse(
                ImportRunOutputSerializer, description="A dry run: nothing was written."
            ),
            201: OpenApiResponse(
                ImportRunOutputSerializer, description="Rows were written; see rows_rejected."
            ),
            202: OpenApiResponse(
                ImportRunOutputSerializer,
                description="The file is queued for the worker; `job` reports its progress.",
            ),
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description=(
                    "The run (as in the 201 reply) failed and wrote nothing; its errors list "
                    "each rejected cell. "
                    "A request rejected before the import starts (no file, unknown kind, "
                    "file too large, unknown source) returns the usual error body instead."
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
        data = serializer.validated_data
        upload = data["file"]
        # Checked here rather than in the serializer so the error names the file
        # instead of echoing its content as the rejected value.
        upload_size_check(upload)
        file_format = file_format_resolve(
            tenant=self.tenant,
            kind=kind,
            source=data.get("source", ""),
            mapping=_mapping_parse(data.get("mapping")),
            encoding=data.get("encoding", ""),
            delimiter=data.get("delimiter", ""),
            locale=data.get("locale", ""),
            date_order=data.get("date_format", ""),
        )
        run = import_request(
            tenant=self.tenant,
            kind=kind,
            upload=upload,
            filename=upload.name or "upload.csv",
            file_format=file_format,
            strict=data["strict"],
            dry_run=data["dry_run"],
            source=data.get("source", ""),
            actor=self.actor(),
        )
        if not run.finished:
            code = status.HTTP_202_ACCEPTED
        elif run.status == ImportRun.Status.FAILED:
            code = status.HTTP_400_BAD_REQUEST
        elif run.dry_run:
            code = status.HTTP_200_OK
        else:
            code = status.HTTP_201_CREATED
        return Response(_import_output(run), status=code)


class ImportDetailView(TenantApiView):
    """Return one import run with its counts, errors and, while queued, its job's progress."""

    scope_group = "crm"

    @extend_schema(
        operation_id="imports_retrieve",
        tags=["imports"],
        summary="Get an import's status, progress, counts and errors",
        responses={200: ImportRunOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        run = ImportRun.objects.select_related("job").filter(pk=pk).first()
        if run is None:
            raise NotFound(
                f"Import {pk} not found.",
                field="pk",
                value=pk,
                fix="Use the id returned when the file was posted.",
            )
        return Response(_import_output(run))


class ImportMappingListView(TenantApiView):
    """List the tenant's saved column mappings."""

    scope_group = "crm"
    # A tenant has a handful of mappings, returned as one list.
    pagination_class = None

    @extend_schema(
        operation_id="import_mappings_list",
        tags=["imports"],
        summary="List saved column mappings by kind and source",
        responses={200: ImportMappingOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        mappings = mappings_list(tenant=self.tenant)
        return Response(ImportMappingOutputSerializer(mappings, many=True).data)
