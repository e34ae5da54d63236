"""Import accounts, deals or partner reach from a CSV file into one tenant."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.importing import csv_import
from crm.models import ImportRun
from tenancy.selectors import tenant_get


class Command(BaseCommand):
    help = "Import a CSV file of accounts, deals or partner reach (see docs/csv-import.md)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="path of the UTF-8 CSV file")
        parser.add_argument("--tenant", required=True, help="slug of the tenant to import into")
        parser.add_argument("--kind", required=True, choices=ImportRun.Kind.values)
        parser.add_argument(
            "--lenient",
            action="store_true",
            help="write the valid lines even when others are invalid (default: write nothing)",
        )

    def handle(self, *args, **options):
        tenant = tenant_get(slug=options["tenant"])
        if tenant is None:
            raise CommandError(f"No tenant has the slug {options['tenant']!r}: check --tenant.")
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None

        run = csv_import(
            tenant=tenant,
            kind=options["kind"],
            content=content,
            filename=path.name,
            strict=not options["lenient"],
        )
        for error in run.errors:
            self.stderr.write(
                f"line {error['line']}, column {error['column'] or '-'}, "
                f"value {error['value']!r}: {error['message']}"
            )
        summary = (
            f"Import {run.pk} {run.get_status_display().lower()}: {run.rows_total} lines, "
            f"{run.rows_created} created, {run.rows_updated} updated, {run.rows_rejected} rejected."
        )
        if run.status == ImportRun.Status.FAILED:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
