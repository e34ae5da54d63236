"""Query parameters every large list shares: `ordering` from an allow-list, `updated_since`."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import QuerySet
from rest_framework import serializers


def ordering_field(orderings: Mapping[str, tuple], default: str) -> serializers.ChoiceField:
    """Return the `ordering` parameter of a list: one key of `orderings`, listed when invalid."""
    allowed = ", ".join(orderings)
    return serializers.ChoiceField(
        choices=list(orderings),
        default=default,
        help_text=f"Sort key, one of: {allowed}. A leading - sorts descending. Default: {default}. "
        "Cursor pages accept only id and -id.",
        error_messages={
            "invalid_choice": f'"{{input}}" is not a valid ordering; use one of: {allowed}.'
        },
    )


class UpdatedSinceSerializer(serializers.Serializer):
    """The `updated_since` filter, for clients that copy changed rows on a schedule."""

    updated_since = serializers.DateTimeField(
        required=False,
        help_text="Only rows created or changed at or after this ISO 8601 time, such as "
        "2026-01-31T00:00:00Z.",
    )


def list_refine(queryset: QuerySet, filters: Mapping, orderings: Mapping[str, tuple]) -> QuerySet:
    """Apply the validated `updated_since` and `ordering` parameters to `queryset`."""
    updated_since = filters.get("updated_since")
    if updated_since is not None:
        queryset = queryset.filter(updated_at__gte=updated_since)
    return queryset.order_by(*orderings[filters["ordering"]])
