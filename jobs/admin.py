from django.contrib import admin

from jobs.models import Job
from tenancy.admin import AllTenantsAdmin


@admin.register(Job)
class JobAdmin(AllTenantsAdmin):
    list_display = ("id", "tenant", "kind", "status", "done", "total", "created_at")
    list_filter = ("kind", "status")
