"""Rescore one tenant's accounts and partners against its active ICP version, now."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from icp.rescoring import rescore_job_create, rescore_job_run
from icp.selectors import icp_version_active
from tenancy.scope import tenant_scope
from tenancy.selectors import tenant_get


class Command(BaseCommand):
    help = (
        "Rescore the tenant's accounts, partner scores and roll-ups against its active ICP "
        "version in this process, through a new rescore job. Use it to finish a rescore "
        "job that failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Slug of the tenant to rescore.")

    def handle(self, *args, **options):
        tenant = tenant_get(slug=options["tenant"])
        if tenant is None:
            raise CommandError(f"Tenant {options['tenant']!r} not found. Pass an existing slug.")
        version = icp_version_active(tenant=tenant)
        if version is None:
            raise CommandError(
                f"Tenant {tenant.slug!r} has no active ICP version. Activate one first."
            )

        with tenant_scope(tenant):
            # The job runs here only, so no worker gets a task for it.
            job = rescore_job_create(tenant=tenant, version=version)
            result = rescore_job_run(tenant=tenant, version_id=version.pk, job_id=job.pk)
        if result is None:
            job.refresh_from_db()
            raise CommandError(f"Rescore job {job.pk} ended {job.status}: {job.message}")
        self.stdout.write(
            f"Job {job.pk}: rescored {result['accounts_scanned']:,} accounts against ICP version "
            f"{version.number} ({result['accounts_changed']:,} changed) and "
            f"{result['partners']:,} partners in {result['seconds']:.1f} s."
        )
