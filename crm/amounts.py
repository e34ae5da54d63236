"""Deal amounts in the tenant's base currency, for everything that adds or compares them.

A deal in the base currency counts its own amount. A deal in another currency
counts `Deal.amount_base`, converted at the tenant's exchange rate for its close
date (`commissions.fx.deal_amounts_convert`), and counts nothing while that rate
is missing: SUM and MAX skip nulls.
"""

from __future__ import annotations

from django.db.models import Case, F, When


def amount_in_base() -> Case:
    """Return an ORM expression of a deal's amount in its tenant's base currency."""
    return Case(
        When(currency=F("tenant__base_currency"), then=F("amount")), default=F("amount_base")
    )


def amount_in_base_sql(alias: str = "d", *, tenant_id_sql: str = "") -> str:
    """Return the same amount as SQL for the deal row `alias`.

    `tenant_id_sql`, such as "%(tenant_id)s", names the tenant when the query reads
    one tenant's deals. PostgreSQL then looks the base currency up once per query
    instead of once per deal row.
    """
    tenant_id = tenant_id_sql or f"{alias}.tenant_id"
    return (
        f"(CASE WHEN {alias}.currency = (SELECT t.base_currency FROM tenancy_tenant AS t "
        f"WHERE t.id = {tenant_id}) THEN {alias}.amount ELSE {alias}.amount_base END)"
    )
