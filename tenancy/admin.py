"""Django admin for operators: it spans tenants, so it reads through `all_tenants`."""

from django.contrib import admin

from tenancy.models import ApiKey, AuditEvent, Membership, Tenant


class AllTenantsAdmin(admin.ModelAdmin):
    """Read-only admin for tenant-owned models, showing every tenant's rows to superusers.

    Changes go through the services, which keep the audit trail and the tenant
    scope; the admin only browses.
    """

    list_select_related = ("tenant",)

    def get_queryset(self, request):
        return self.model.all_tenants.get_queryset()

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "base_currency", "attribution_window_days")
    search_fields = ("name", "slug")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant", "role", "partner")
    list_filter = ("role", "tenant")
    raw_id_fields = ("user", "partner")


@admin.register(ApiKey)
class ApiKeyAdmin(AllTenantsAdmin):
    list_display = (
        "name",
        "tenant",
        "prefix",
        "scopes",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = ("digest", "prefix")


@admin.register(AuditEvent)
class AuditEventAdmin(AllTenantsAdmin):
    list_display = ("created_at", "tenant", "event", "object_type", "object_id", "actor")
    list_filter = ("event",)
