"""Query parameters the large lists share: `ordering`, `updated_since` and date ranges."""

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


class DateRangeSerializer(serializers.Serializer):
    """An inclusive date range `<prefix>_from` to `<prefix>_to`, named by `date_range_prefix`."""

    date_range_prefix = ""
    # What the dates are, for the schema, such as "creation date (UTC)".
    date_range_label = ""

    def get_fields(self):
        fields = super().get_fields()
        prefix = self.date_range_prefix
        fields[f"{prefix}_from"] = serializers.DateField(
            required=False,
            help_text=f"Earliest {self.date_range_label}, inclusive (YYYY-MM-DD).",
        )
        fields[f"{prefix}_to"] = serializers.DateField(
            required=False,
            help_text=f"Latest {self.date_range_label}, inclusive (YYYY-MM-DD).",
        )
        return fields

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        prefix = self.date_range_prefix
        start, end = attrs.get(f"{prefix}_from"), attrs.get(f"{prefix}_to")
        if start and end and start > end:
            raise serializers.ValidationError(
                {f"{prefix}_to": f"{prefix}_to must not be earlier than {prefix}_from."}
            )
        return attrs


def date_range_filter(queryset: QuerySet, lookup: str, filters: Mapping, prefix: str) -> QuerySet:
    """Keep the rows whose `lookup` date lies in the validated `<prefix>_from/_to` range."""
    start, end = filters.get(f"{prefix}_from"), filters.get(f"{prefix}_to")
    if start is not None:
        queryset = queryset.filter(**{f"{lookup}__gte": start})
    if end is not None:
        queryset = queryset.filter(**{f"{lookup}__lte": end})
    return queryset
