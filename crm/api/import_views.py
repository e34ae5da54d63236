"""API views that list the tenant's CSV import runs and return one with its errors."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from crm import selectors
from crm.api.serializers import ImportRunOutputSerializer
from crm.models import ImportRun
from tenancy.api.views import READ_ERRORS, TenantApiView


class ImportRunFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportRun.Kind.choices, required=False)
    status = serializers.ChoiceField(choices=ImportRun.Status.choices, required=False)


class ImportRunListView(TenantApiView):
    """List the tenant's CSV import runs, newest first."""

    scope_group = "crm"

    @extend_schema(
        operation_id="imports_list",
        tags=["imports"],
        summary="List CSV import runs, newest first",
        parameters=[ImportRunFilterSerializer],
        responses={200: ImportRunOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        filters = self.query_params_validate(ImportRunFilterSerializer)
        runs = selectors.import_run_list(kind=filters.get("kind"), status=filters.get("status"))
        return self.paginated_response(runs, ImportRunOutputSerializer)
