"""Approve pending accruals whose holding period has passed, for one tenant or all."""

from django.core.management.base import BaseCommand, CommandError

from commissions.approval import entries_release_due, entries_release_due_all
from tenancy.models import Tenant


class Command(BaseCommand):
    help = "Approve pending accruals whose deal closed at least holding_days ago."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Slug of one tenant; all tenants when left out.")

    def handle(self, *args, tenant=None, **options):
        if tenant:
            found = Tenant.objects.filter(slug=tenant).first()
            if found is None:
                raise CommandError(f"No tenant has the slug {tenant!r}: check the spelling.")
            approved = entries_release_due(tenant=found)
        else:
            approved = entries_release_due_all()
        self.stdout.write(f"Approved {approved} entries.")
