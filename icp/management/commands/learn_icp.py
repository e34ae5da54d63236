"""Learn a draft ICP version for one tenant from its closed deals."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from icp.learning import WEIGHTINGS, InsufficientData
from icp.rescoring import version_rescore_now
from icp.services import icp_learn, icp_version_activate
from tenancy.scope import tenant_scope
from tenancy.selectors import tenant_get


class Command(BaseCommand):
    help = (
        "Learn a draft ICP version from the tenant's won and lost deals, then print its "
        "summary, criteria, tier cut-offs and validation metrics."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Slug of the tenant to learn for.")
        parser.add_argument(
            "--activate",
            action="store_true",
            help="Activate the new version and rescore the tenant's accounts against it.",
        )
        parser.add_argument(
            "--weighting",
            choices=WEIGHTINGS,
            default="none",
            help=(
                "How closed deals count: none (once each), value (won deals by amount over "
                "the median won amount, clipped to 0.2-5) or value_and_churn (as value, and "
                "won deals whose account churned within 365 days count as lost). "
                "Default: none."
            ),
        )

    def handle(self, *args, **options):
        tenant = tenant_get(slug=options["tenant"])
        if tenant is None:
            raise CommandError(f"Tenant {options['tenant']!r} not found. Pass an existing slug.")

        with tenant_scope(tenant):
            try:
                version = icp_learn(tenant=tenant, weighting=options["weighting"])
            except InsufficientData as error:
                raise CommandError(f"{error.message} {error.fix}") from error
            if options["activate"]:
                version = icp_version_activate(version=version)
                rescored = version_rescore_now(tenant=tenant, version=version)

        self.stdout.write(f"ICP version {version.number} ({version.status}): {version.name}")
        if options["activate"] and rescored is not None:
            self.stdout.write(
                f"Rescored {rescored['accounts_scanned']:,} accounts "
                f"({rescored['accounts_changed']:,} changed) and {rescored['partners']:,} partners."
            )
        self.stdout.write(f"Objective: {version.objective}, signal: {version.signal}")
        self.stdout.write(
            f"Weighting: {version.metrics['weighting']}, "
            f"churned wins: {version.metrics['churned_wins']}"
        )
        self.stdout.write(version.summary)
        self.stdout.write("Criteria:")
        for criterion in version.criteria:
            support = criterion["support"]
            lift = criterion["lift"]
            self.stdout.write(
                f"  {criterion['weight']:>3}  {criterion['label']}  "
                f"({support['accounts']} accounts, {support['deals']} deals, "
                f"won value lift {lift['won_value']}, win rate lift {lift['win_rate']}, "
                f"lifetime value lift {lift['lifetime_value']})"
            )
        cutoffs = version.tier_cutoffs
        self.stdout.write(f"Tier cut-offs: A {cutoffs['A']}, B {cutoffs['B']}, C {cutoffs['C']}")
        self.stdout.write("Metrics:")
        self.stdout.write(json.dumps(version.metrics, indent=2))
