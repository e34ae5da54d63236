"""One error body for the whole API: code, message and, per field, value and fix."""

from __future__ import annotations

import logging
import math

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from tenancy.errors import DomainError
from tenancy.scope import TenantScopeMissing

logger = logging.getLogger(__name__)


def _field_errors(detail, prefix: str = "") -> list[dict]:
    errors: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            errors.extend(_field_errors(value, name))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                errors.extend(_field_errors(value, f"{prefix}[{index}]"))
            else:
                errors.append({"field": prefix or "non_field_errors", "message": str(value)})
    else:
        errors.append({"field": prefix or "non_field_errors", "message": str(detail)})
    return errors


PLAIN_TYPES = (str, int, float, bool, type(None))


def _add_rejected_values(errors: list[dict], request) -> None:
    """Echo each rejected value from the body or query string, if it is a plain value.

    Files and nested structures are never echoed, so an error body cannot repeat
    an upload's content.
    """
    if request is None:
        return
    sources = []
    data = getattr(request, "data", None)
    if hasattr(data, "get"):
        sources.append(data)
    sources.append(request.query_params)
    for error in errors:
        for source in sources:
            if error["field"] in source:
                value = source.get(error["field"])
                if isinstance(value, float) and not math.isfinite(value):
                    # JSON cannot carry inf or NaN, so the value is echoed as text.
                    error["value"] = str(value)
                elif isinstance(value, PLAIN_TYPES):
                    error["value"] = value
                break


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        _log_rejected(context, exc.status_code, exc.code, exc.field)
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, TenantScopeMissing):
        logger.error("api.tenant_scope_missing view=%s", context["view"].__class__.__name__)
        return Response(
            {"code": "forbidden", "message": "No tenant is active for this request."},
            status=status.HTTP_403_FORBIDDEN,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        if isinstance(exc, BadRequest | SuspiciousOperation):
            # Django returns these through handler400 (tenancy.http.bad_request), which
            # names an oversized body.
            return None
        return _server_error(exc, context)
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        _add_rejected_values(errors, context.get("request"))
        first_field = errors[0]["field"] if errors else ""
        _log_rejected(context, response.status_code, "invalid", first_field)
        response.data = {
            "code": "invalid",
            "message": "The request has invalid fields; see errors.",
            "errors": errors,
        }
    elif isinstance(exc, exceptions.ParseError):
        _log_rejected(context, response.status_code, "parse_error", "body")
        response.data = {
            "code": "parse_error",
            "message": str(exc.detail),
            "field": "body",
            "value": None,
            "fix": "Send one JSON object: quoted keys, no trailing commas, and no NaN or "
            "Infinity, which JSON does not allow.",
        }
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        code = getattr(exc, "default_code", "error")
        response.data = {"code": code, "message": str(detail)}
        fix = _fix_for(exc, context)
        if fix:
            response.data["fix"] = fix
    return response


def _fix_for(exc, context) -> str:
    """Return what the caller can do about an authentication, method or rate error."""
    if isinstance(exc, exceptions.NotAuthenticated):
        return "Send the header Authorization: Api-Key <key> with a live key of the tenant."
    if isinstance(exc, exceptions.MethodNotAllowed):
        view = context.get("view")
        allowed = ", ".join(view.allowed_methods) if view is not None else ""
        return f"This endpoint accepts {allowed}." if allowed else ""
    if isinstance(exc, exceptions.Throttled):
        if exc.wait is None:
            return "Retry later."
        return f"Retry after {math.ceil(exc.wait)} seconds."
    return ""


def _server_error(exc, context) -> Response:
    """Log an unexpected exception with its traceback and return the API's 500 body.

    The body carries no detail of the exception, which may contain stored data.
    """
    request = context.get("request")
    tenant = getattr(getattr(request, "_request", request), "tenant", None)
    logger.error(
        "api.server_error view=%s method=%s path=%s tenant_id=%s",
        context["view"].__class__.__name__,
        getattr(request, "method", ""),
        getattr(request, "path", ""),
        getattr(tenant, "pk", None),
        exc_info=exc,
    )
    # As for handled errors: roll back the request's transaction under ATOMIC_REQUESTS.
    set_rollback()
    return Response(
        {
            "code": "server_error",
            "message": "The server failed to handle the request.",
            "fix": "Retry later; if it fails again, report the time and path to the operator, "
            "who finds the cause in the server log.",
        },
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _log_rejected(context, status_code: int, code: str, field: str | None) -> None:
    """Log one line for a request the API rejected, with the view, tenant and field."""
    request = context.get("request")
    tenant = getattr(getattr(request, "_request", request), "tenant", None)
    logger.info(
        "api.request_rejected view=%s method=%s tenant_id=%s status=%s code=%s field=%s",
        context["view"].__class__.__name__,
        getattr(request, "method", ""),
        getattr(tenant, "pk", None),
        status_code,
        code,
        field or "",
    )
