"""API views of the bulk upserts of accounts and deals."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from crm import bulk
from crm.api.serializers import AccountInputSerializer, DealInputSerializer
from tenancy.api.views import AUTH_ERRORS, ErrorSerializer, TenantApiView, error_response
from tenancy.idempotency import IDEMPOTENCY_PARAMETER, idempotent

# The fix, per field, for rows that field validation rejects.
FIELD_FIXES = {
    "external_id": "Send the record's id in your CRM as text of at most 100 characters.",
    "name": "Send text of at most 255 characters.",
    "stage": "Send open, won or lost.",
    "amount": "Send a number of at least 0 with at most the currency's decimals (2 for most "
    'currencies, 0 for JPY), such as "1250.50".',
    "currency": "Send an ISO 4217 code such as USD, or leave it blank for the tenant's base "
    "currency.",
    "close_date": "Send a date between 1900 and 2100 as YYYY-MM-DD.",
    "engage_date": "Send a date between 1900 and 2100 as YYYY-MM-DD.",
    "churned_on": "Send a date between 1900 and 2100 as YYYY-MM-DD.",
    "kind": "Send new, renewal or expansion.",
    "domain": "Send a web domain such as acme.com.",
    "account_domain": "Send a web domain such as acme.com.",
    "country": "Send a country name or ISO 3166 code such as DE.",
    "employees": "Send a whole number from 0 to 10000000.",
    "year_established": "Send a year from 1600 to 2100.",
    "annual_revenue": "Send a number of at least 0 with at most 2 decimals, below 10^12.",
    "budget": "Send a number of at least 0 with at most 2 decimals, below 10^12.",
    "tech_stack": "Send a list of product names of at most 100 characters each.",
    "triggers": 'Send an object of trigger names and dates, such as {"funding": "2026-09-14"}.',
}
DEFAULT_FIX = "Send a value of the type and length that the API schema gives for this field."
# Rejected text is echoed up to this many characters.
MAX_ECHO_LENGTH = 200


# Request and response shapes


class BulkInputSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(
        choices=bulk.MODES,
        help_text="atomic writes nothing when any row is invalid; partial writes the valid "
        "rows and reports the invalid ones.",
    )
    rows = serializers.ListField(
        child=serializers.JSONField(),
        allow_empty=False,
        help_text=f"1 to {bulk.MAX_BULK_ROWS} rows, each shaped like the single-row input.",
    )

    def validate_rows(self, value: list) -> list:
        if len(value) > bulk.MAX_BULK_ROWS:
            raise serializers.ValidationError(
                f"At most {bulk.MAX_BULK_ROWS} rows per request, got {len(value)}: split the "
                "rows into several requests, or import them as a CSV file."
            )
        return value


class DealBulkInputSerializer(BulkInputSerializer):
    rows = serializers.ListField(
        child=DealInputSerializer(),
        help_text=f"1 to {bulk.MAX_BULK_ROWS} deals, each shaped like the body of "
        "POST /api/v1/deals/.",
    )


class AccountBulkInputSerializer(BulkInputSerializer):
    rows = serializers.ListField(
        child=AccountInputSerializer(),
        help_text=f"1 to {bulk.MAX_BULK_ROWS} accounts.",
    )


class BulkRowErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The row's field; empty when the row is no object.")
    value = serializers.JSONField(allow_null=True, help_text="The rejected value, when known.")
    message = serializers.CharField()
    fix = serializers.CharField(help_text="What to change to succeed.")


class BulkRowResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the row in `rows`, from 0.")
    status = serializers.ChoiceField(choices=bulk.STATUSES)
    id = serializers.IntegerField(allow_null=True, help_text="Null for rows with errors.")
    external_id = serializers.CharField()
    errors = BulkRowErrorSerializer(many=True)


class BulkCountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    error = serializers.IntegerField()


class BulkOutputSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=bulk.MODES)
    written = serializers.BooleanField(help_text="False when an atomic request wrote nothing.")
    rows_total = serializers.IntegerField()
    counts = BulkCountsSerializer()
    results = BulkRowResultSerializer(
        many=True,
        help_text="Every row in input order; when written is false, only the invalid rows.",
    )
    results_truncated = serializers.BooleanField(
        help_text=f"True when more than {bulk.MAX_REPORTED_ERROR_ROWS} rows were invalid and "
        "only the first of them are listed."
    )


# Row validation and the response


def rows_validate(
    serializer_class: type[serializers.Serializer], raw_rows: list
) -> tuple[list[dict], dict[int, list[dict]]]:
    """Validate each row with `serializer_class`; return the rows and the errors by index.

    An invalid row is replaced by its external_id as sent, as `crm.bulk` expects.
    """
    rows: list[dict] = []
    errors: dict[int, list[dict]] = {}
    # One instance validates every row: building a serializer's fields per row took
    # three quarters of the validation time.
    validator = serializer_class()
    for index, raw in enumerate(raw_rows):
        if not isinstance(raw, dict):
            rows.append({"external_id": ""})
            errors[index] = [
                {
                    "field": "",
                    "value": _echo(raw),
                    "message": "The row is not a JSON object.",
                    "fix": "Send each row as an object of field names and values.",
                }
            ]
            continue
        try:
            rows.append(dict(validator.run_validation(raw)))
            continue
        except serializers.ValidationError as error:
            detail = serializers.as_serializer_error(error)
        external_id = raw.get("external_id")
        rows.append({"external_id": external_id.strip() if isinstance(external_id, str) else ""})
        errors[index] = [
            {
                "field": name,
                "value": _echo(raw.get(name)),
                "message": message,
                "fix": FIELD_FIXES.get(name, DEFAULT_FIX),
            }
            for name, messages in detail.items()
            for message in _messages(messages)
        ]
    return rows, errors


def _messages(detail) -> list[str]:
    """Flatten DRF error details, which nest for list and dict fields, into messages."""
    if isinstance(detail, dict):
        return [
            f"{key}: {message}" for key, value in detail.items() for message in _messages(value)
        ]
    if isinstance(detail, list):
        return [message for item in detail for message in _messages(item)]
    return [str(detail)]


def _echo(value):
    """Return a rejected value small enough to echo: plain values only, text shortened."""
    if isinstance(value, str):
        return value if len(value) <= MAX_ECHO_LENGTH else f"{value[:MAX_ECHO_LENGTH]}…"
    if isinstance(value, bool | int) or value is None:
        return value
    if isinstance(value, float):
        return str(value)
    return None


def bulk_response(result: bulk.BulkResult, rows_total: int) -> Response:
    """Return 200 with every row's result, or 400 when an atomic request wrote nothing."""
    results = result.results
    truncated = len(results) > bulk.MAX_REPORTED_ERROR_ROWS and not result.written
    if truncated:
        results = results[: bulk.MAX_REPORTED_ERROR_ROWS]
    body = {
        "mode": result.mode,
        "written": result.written,
        "rows_total": rows_total,
        "counts": result.counts,
        "results": [
            {
                "index": row.index,
                "status": row.status,
                "id": row.id,
                "external_id": row.external_id,
                "errors": row.errors,
            }
            for row in results
        ],
        "results_truncated": truncated,
    }
    if result.written:
        return Response(body, status=status.HTTP_200_OK)
    invalid = result.counts[bulk.ERROR]
    return Response(
        {
            "code": "invalid",
            "message": f"{invalid} of {rows_total} rows are invalid, so nothing was written; "
            "see results.",
            **body,
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


def _bulk_schema(*, noun: str, operation_id: str, request, extra: str = ""):
    return extend_schema(
        operation_id=operation_id,
        tags=[f"{noun}s"],
        summary=f"Create or update up to {bulk.MAX_BULK_ROWS} {noun}s by external id",
        description=(
            f"Checks every row, then writes the valid {noun}s in a few set-based statements, "
            "keyed on external_id, so sending the same rows again changes nothing. Each row "
            "gets a result in input order: created, updated, unchanged or error, with one "
            "error per rejected field. A row repeating an earlier row's external_id is an "
            f"error. {extra}See docs/api-bulk.md."
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request=request,
        responses={
            200: OpenApiResponse(
                BulkOutputSerializer,
                description="Partial mode, or atomic mode with every row valid: the valid "
                "rows were written.",
            ),
            400: OpenApiResponse(
                # Both bodies carry code and message; the Error schema allows the
                # rejected rows' extra fields.
                ErrorSerializer,
                description="Atomic mode with invalid rows: nothing was written. The body is "
                "the error body plus the fields of the 200 reply, whose results list the "
                f"first {bulk.MAX_REPORTED_ERROR_ROWS} invalid rows. A request whose "
                "envelope is invalid (mode, or more "
                f"than {bulk.MAX_BULK_ROWS} rows) returns the plain error body.",
            ),
            409: error_response(
                "A request with this Idempotency-Key is still running, or a concurrent "
                "request wrote a conflicting row first; retry."
            ),
            422: error_response("The Idempotency-Key was used with a different request."),
            **AUTH_ERRORS,
        },
    )


class DealBulkUpsertView(TenantApiView):
    """Create or update many deals by external id in one request."""

    @_bulk_schema(
        noun="deal",
        operation_id="deals_bulk_upsert",
        request=DealBulkInputSerializer,
        extra="Won deals enter the commission pipeline after the request commits. ",
    )
    @idempotent
    def post(self, request):
        envelope = BulkInputSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        raw_rows = envelope.validated_data["rows"]
        rows, errors = rows_validate(DealInputSerializer, raw_rows)

        result = bulk.deals_bulk_upsert(
            tenant=self.tenant, rows=rows, row_errors=errors, mode=envelope.validated_data["mode"]
        )

        return bulk_response(result, len(raw_rows))


class AccountBulkUpsertView(TenantApiView):
    """Create or update many accounts by external id in one request."""

    @_bulk_schema(
        noun="account",
        operation_id="accounts_bulk_upsert",
        request=AccountBulkInputSerializer,
        extra="Each row replaces the stored account's fields, so an omitted field is "
        "stored empty. A domain belongs to one account. ",
    )
    @idempotent
    def post(self, request):
        envelope = BulkInputSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        raw_rows = envelope.validated_data["rows"]
        rows, errors = rows_validate(AccountInputSerializer, raw_rows)

        result = bulk.accounts_bulk_upsert(
            tenant=self.tenant, rows=rows, row_errors=errors, mode=envelope.validated_data["mode"]
        )

        return bulk_response(result, len(raw_rows))
