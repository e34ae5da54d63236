"""Attribute a tenant's unbooked deals again, as the task after a rule change does."""

from django.core.management.base import BaseCommand, CommandError

from attribution.rules import deals_reattribute_all
from tenancy.models import Tenant


class Command(BaseCommand):
    help = (
        "Attribute every unbooked deal of a tenant again under its current attribution "
        "window and touch rule, for example when the worker was down after a change."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The tenant's slug, such as demo.")

    def handle(self, *args, tenant, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant has the slug {tenant!r}: check Settings for the slug.")
        count = deals_reattribute_all(tenant_id=found.pk)
        self.stdout.write(f"Attributed {count} unbooked deals of {found.slug} again.")
