"""The fetcher that views use to load one object of the active tenant."""

from __future__ import annotations

from django.db import models
from django.http import Http404

from tenancy.scope import current_tenant_id


def get_for_tenant_or_404(source: type[models.Model] | models.QuerySet, **lookup) -> models.Model:
    """Return the one row of the active tenant that matches `lookup`, or raise Http404.

    `source` is a tenant-owned model or a queryset of one, for example with
    `select_related` applied. The tenant filter is added here as well as by the
    scoped manager, so a queryset built on `all_tenants` still cannot return another
    tenant's row. Another tenant's row raises Http404, the same as a missing one.
    """
    queryset = source._default_manager.all() if isinstance(source, type) else source
    try:
        return queryset.filter(tenant_id=current_tenant_id()).get(**lookup)
    except queryset.model.DoesNotExist:
        name = queryset.model._meta.verbose_name
        raise Http404(f"No {name} matches {lookup} in this tenant.") from None
