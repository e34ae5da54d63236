"""API views of the tenant's exchange rates: list, bulk upsert, delete and quote."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from commissions import fx
from commissions.api.fx_serializers import (
    ExchangeRateFilterSerializer,
    ExchangeRateInputSerializer,
    ExchangeRateOutputSerializer,
    ExchangeRateQuoteQuerySerializer,
    ExchangeRateQuoteSerializer,
    ExchangeRateUpsertSerializer,
)
from tenancy.api.views import (
    AUTH_ERRORS,
    DETAIL_ERRORS,
    READ_ERRORS,
    TenantApiView,
    error_response,
)
from tenancy.errors import DomainError

# Rows one POST may carry; larger sets go through the CSV import.
MAX_API_ROWS = 5000


class ExchangeRateListView(TenantApiView):
    """List the tenant's exchange rates, and add or update them in bulk."""

    @extend_schema(
        operation_id="exchange_rates_list",
        tags=["exchange rates"],
        summary="List exchange rates, newest rate_date first",
        parameters=[ExchangeRateFilterSerializer],
        responses={200: ExchangeRateOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        filters = self.query_params_validate(ExchangeRateFilterSerializer)
        rates = fx.exchange_rate_list(
            currency=filters.get("currency"),
            date_from=filters.get("from"),
            date_to=filters.get("to"),
        )
        return self.paginated_response(rates, ExchangeRateOutputSerializer)

    @extend_schema(
        operation_id="exchange_rates_upsert",
        tags=["exchange rates"],
        summary="Add or update exchange rates, one object or a list of up to 5000",
        description=(
            "Rates are keyed on currency and rate_date. A row equal to the stored rate "
            "changes nothing, and a row with another rate or source updates it; ledger "
            "entries keep the rate they were booked with. A batch with any invalid row "
            "writes nothing and returns 400 with one item per invalid row in errors (the "
            "first 100). Won deals waiting for a rate are processed again after a write. "
            "Returns 201 when a rate was created, else 200."
        ),
        request=ExchangeRateInputSerializer(many=True),
        responses={
            200: OpenApiResponse(ExchangeRateUpsertSerializer, description="Nothing was created."),
            201: OpenApiResponse(
                ExchangeRateUpsertSerializer, description="At least one rate was created."
            ),
            400: error_response("A row is invalid, or the batch is empty or too large."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        rows = request.data if isinstance(request.data, list) else [request.data]
        if len(rows) > MAX_API_ROWS:
            raise DomainError(
                f"The batch has {len(rows)} rates, more than the limit of {MAX_API_ROWS}.",
                field="rows",
                value=len(rows),
                fix="Split the batch, or import the rates as CSV with "
                "POST /api/v1/imports/exchange_rates/.",
            )
        result = fx.exchange_rates_upsert(
            tenant=self.tenant, rows=rows, actor=self.actor(), source="api"
        )
        body = ExchangeRateUpsertSerializer(result).data
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(body, status=code)


class ExchangeRateDetailView(TenantApiView):
    """Return or delete one exchange rate."""

    @extend_schema(
        operation_id="exchange_rates_retrieve",
        tags=["exchange rates"],
        summary="Get an exchange rate",
        responses={200: ExchangeRateOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(ExchangeRateOutputSerializer(fx.exchange_rate_get(pk=pk)).data)

    @extend_schema(
        operation_id="exchange_rates_delete",
        tags=["exchange rates"],
        summary="Delete an exchange rate",
        description="Ledger entries booked with the rate keep it; later lookups no longer see it.",
        responses={204: None, **DETAIL_ERRORS},
    )
    def delete(self, request, pk: int):
        fx.exchange_rate_delete(tenant=self.tenant, rate_id=pk, actor=self.actor())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExchangeRateQuoteView(TenantApiView):
    """Return the rate a conversion on a date would use."""

    @extend_schema(
        operation_id="exchange_rates_quote",
        tags=["exchange rates"],
        summary="Get the rate that converts a currency on a date",
        description=(
            f"The stored rate with the latest rate_date on or before date, at most "
            f"{fx.MAX_RATE_AGE_DAYS} days older; never a later rate. The base currency "
            "gets rate 1."
        ),
        parameters=[ExchangeRateQuoteQuerySerializer],
        responses={
            200: ExchangeRateQuoteSerializer,
            400: error_response("The currency is not an ISO 4217 code, or the date is invalid."),
            404: error_response(
                "No rate covers the date (code missing_exchange_rate); the fix says how to add one."
            ),
            **AUTH_ERRORS,
        },
    )
    def get(self, request):
        query = self.query_params_validate(ExchangeRateQuoteQuerySerializer)
        quote = fx.exchange_rate_for(
            tenant=self.tenant, currency=query["currency"], on_date=query["date"]
        )
        return Response(ExchangeRateQuoteSerializer(quote).data)
