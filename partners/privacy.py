"""What a partner may see of the overlap between its reach and the tenant's accounts."""

from __future__ import annotations

from partners.models import Partner
from tenancy.models import Tenant

Visibility = Tenant.MappingVisibility


def mapping_visibility(*, partner: Partner, tenant: Tenant) -> str:
    """Return the partner's own visibility setting, else the tenant's default."""
    return partner.mapping_visibility or tenant.mapping_visibility
