"""Process refund and churn events still unprocessed after a minute, for one tenant or all."""

from django.core.management.base import BaseCommand, CommandError

from commissions.reversals import revenue_events_sweep
from tenancy.models import Tenant


class Command(BaseCommand):
    help = "Write the reversals of refund and churn events whose task never ran."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Slug of one tenant; all tenants when left out.")

    def handle(self, *args, tenant=None, **options):
        tenant_id = None
        if tenant:
            found = Tenant.objects.filter(slug=tenant).first()
            if found is None:
                raise CommandError(f"No tenant has the slug {tenant!r}: check the spelling.")
            tenant_id = found.pk
        processed = revenue_events_sweep(tenant_id=tenant_id)
        self.stdout.write(f"Processed {processed} events.")
