"""API views of the commission ledger."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema

from commissions.api.serializers import LedgerEntryOutputSerializer, LedgerFilterSerializer
from commissions.selectors import ledger_entry_list
from tenancy.api.views import READ_ERRORS, TenantApiView


class LedgerEntryListView(TenantApiView):
    """List the tenant's commission ledger entries, newest first."""

    @extend_schema(
        operation_id="ledger_list",
        tags=["ledger"],
        summary="List commission ledger entries, newest first",
        parameters=[LedgerFilterSerializer],
        responses={200: LedgerEntryOutputSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        filters = self.query_params_validate(LedgerFilterSerializer)
        entries = ledger_entry_list(
            partner_id=filters.get("partner"),
            status=filters.get("status"),
            kind=filters.get("kind"),
        )
        return self.paginated_response(entries, LedgerEntryOutputSerializer)
