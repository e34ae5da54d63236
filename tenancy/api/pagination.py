"""Pages of API lists: limit/offset by default, cursor pages for the large lists.

A large list (accounts, deals, ledger entries, revenue events, referrals) is paged
by cursor when the request sends `cursor` or `page_size`, and by `limit`/`offset`
otherwise, so clients written against offset pages keep working. Cursor pages
follow the row id (newest first by default), which is unique and indexed per
tenant, so a row inserted while a client walks the pages never shifts or repeats
a row on the pages that follow.
"""

from __future__ import annotations

from rest_framework import exceptions, pagination

from tenancy.errors import DomainError

MAX_PAGE_SIZE = 1000

# The `ordering` keys a cursor page accepts, and the database ordering of each.
CURSOR_ORDERINGS = {"-id": ("-id",), "id": ("id",)}
CURSOR_DEFAULT_ORDERING = "-id"


class TenantPagination(pagination.LimitOffsetPagination):
    """Limit/offset pages of 100 rows by default and at most 1000 rows."""

    default_limit = 100
    max_limit = MAX_PAGE_SIZE


class TenantCursorPagination(pagination.CursorPagination):
    """Cursor pages of `page_size` rows (1 to 1000, default 100) ordered by id."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = CURSOR_DEFAULT_ORDERING

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise DomainError(
                "page_size is out of range.",
                field="page_size",
                value=raw,
                fix=f"Send a whole number from 1 to {self.max_page_size:,}.",
            )
        return size

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        key = request.query_params.get("ordering") or CURSOR_DEFAULT_ORDERING
        if key not in CURSOR_ORDERINGS:
            raise DomainError(
                "This ordering cannot be combined with cursor pagination.",
                field="ordering",
                value=key,
                fix=f"With cursor or page_size, send ordering as one of: "
                f"{', '.join(CURSOR_ORDERINGS)}; or page with limit and offset instead.",
            )
        return CURSOR_ORDERINGS[key]

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise DomainError(
                "The cursor is invalid.",
                field="cursor",
                value=request.query_params.get(self.cursor_query_param),
                fix="Send the cursor exactly as a next or previous link contains it, "
                "or leave it out to start at the first page.",
            ) from None


class CursorOrOffsetPagination(pagination.BasePagination):
    """Cursor pages when the request sends `cursor` or `page_size`, else limit/offset."""

    def __init__(self):
        self.delegate: pagination.BasePagination | None = None

    def paginate_queryset(self, queryset, request, view=None):
        params = request.query_params
        if "cursor" in params or "page_size" in params:
            if "limit" in params or "offset" in params:
                raise DomainError(
                    "limit and offset cannot be combined with cursor or page_size.",
                    field="limit" if "limit" in params else "offset",
                    value=params.get("limit", params.get("offset")),
                    fix="Page with cursor and page_size, or with limit and offset, not both.",
                )
            self.delegate = TenantCursorPagination()
        else:
            self.delegate = TenantPagination()
        return self.delegate.paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        return self.delegate.get_paginated_response(data)

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": "Rows in the whole list; on limit/offset pages only.",
                    "example": 123,
                },
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        offset = TenantPagination().get_schema_operation_parameters(view)
        return [
            *offset,
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "Opaque position from a next or previous link; sending it "
                "(even empty, for the first page) selects cursor pagination.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": f"Rows per cursor page, 1 to {MAX_PAGE_SIZE:,} (default 100); "
                "selects cursor pagination.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]
