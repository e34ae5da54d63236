from django.contrib import admin

from partners.models import Partner
from tenancy.admin import AllTenantsAdmin


@admin.register(Partner)
class PartnerAdmin(AllTenantsAdmin):
    list_display = ("name", "tenant", "kind", "status", "is_generated")
    list_filter = ("kind", "status")
    search_fields = ("name", "external_id")
