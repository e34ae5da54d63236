from django.contrib import admin

from icp.models import IcpVersion
from tenancy.admin import AllTenantsAdmin


@admin.register(IcpVersion)
class IcpVersionAdmin(AllTenantsAdmin):
    list_display = ("number", "name", "tenant", "status", "signal", "activated_at")
    list_filter = ("status", "signal")
