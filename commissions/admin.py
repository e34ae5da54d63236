from django.contrib import admin

from commissions.models import CommissionPlan, LedgerEntry
from tenancy.admin import AllTenantsAdmin


@admin.register(CommissionPlan)
class CommissionPlanAdmin(AllTenantsAdmin):
    list_display = ("name", "tenant", "is_active", "base_rate")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(AllTenantsAdmin):
    list_display = ("created_at", "tenant", "partner", "kind", "status", "amount", "currency")
    list_filter = ("kind", "status")
