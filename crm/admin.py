from django.contrib import admin

from crm.models import Account, Deal, ImportRun
from tenancy.admin import AllTenantsAdmin


@admin.register(Account)
class AccountAdmin(AllTenantsAdmin):
    list_display = ("name", "tenant", "domain", "industry", "fit_score", "fit_tier")
    search_fields = ("name", "domain", "external_id")
    raw_id_fields = ("referred_by", "fit_version")


@admin.register(Deal)
class DealAdmin(AllTenantsAdmin):
    list_display = ("external_id", "tenant", "stage", "amount", "currency", "pipeline_status")
    list_filter = ("stage", "pipeline_status")
    search_fields = ("external_id",)
    raw_id_fields = ("account", "partner", "won_fit_version")


@admin.register(ImportRun)
class ImportRunAdmin(AllTenantsAdmin):
    list_display = ("created_at", "tenant", "kind", "filename", "status", "rows_total")
