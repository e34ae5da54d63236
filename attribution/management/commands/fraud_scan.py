"""Run the fraud rules for one tenant now, and hold the commissions they cover."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from attribution.fraud.rules.base import plural
from attribution.fraud.scan import fraud_scan
from tenancy.selectors import tenant_get


class Command(BaseCommand):
    help = (
        "Run every fraud rule over the tenant's partners in this process, store new "
        "signals and hold the pending commission entries they cover. Signals found "
        "before are skipped, so running it again adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Slug of the tenant to scan.")
        parser.add_argument(
            "--partner",
            type=int,
            action="append",
            dest="partners",
            help="Id of a partner to scan; repeat it for several. Default: every partner.",
        )
        parser.add_argument(
            "--days",
            type=int,
            help="Look only at evidence from the last DAYS days. Default: all evidence.",
        )

    def handle(self, *args, **options):
        tenant = tenant_get(slug=options["tenant"])
        if tenant is None:
            raise CommandError(f"Tenant {options['tenant']!r} not found. Pass an existing slug.")
        days = options["days"]
        if days is not None and days < 1:
            raise CommandError(f"--days {days} is not a positive number of days. Pass 1 or more.")
        since = timezone.now() - datetime.timedelta(days=days) if days else None

        result = fraud_scan(tenant=tenant, partner_ids=options["partners"], since=since)

        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(result.new_signals.items()))
        self.stdout.write(
            f"Scanned {plural(result.partners, 'partner')} of {tenant.slug}: "
            f"{plural(result.new_total, 'new signal')}{f' ({kinds})' if kinds else ''}, "
            f"{plural(result.entries_held, 'commission entry', 'commission entries')} held."
        )
