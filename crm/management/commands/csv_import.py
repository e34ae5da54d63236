"""Import a CSV file of one kind into one tenant, printing progress and a summary."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.importing.mappings import file_format_resolve
from crm.importing.uploads import import_path, import_summary, same_file_run
from crm.models import ImportRun
from tenancy.errors import DomainError
from tenancy.selectors import tenant_get


class Command(BaseCommand):
    help = (
        "Import a CSV file of accounts, deals, reach, revenue events or exchange rates "
        "(see docs/csv-import.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, required=True, help="path of the CSV file")
        self.add_import_arguments(parser)

    def add_import_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="slug of the tenant to import into")
        parser.add_argument("--kind", required=True, choices=ImportRun.Kind.values)
        parser.add_argument("--source", default="", help="name of a saved column mapping")
        parser.add_argument(
            "--locale", default="", choices=["", "en", "de", "fr", "ch"], help="number format"
        )
        parser.add_argument(
            "--date-format", default="", choices=["", "DMY", "MDY", "YMD"], help="date order"
        )
        parser.add_argument("--encoding", default="", help="text encoding, such as cp1252")
        parser.add_argument("--delimiter", default="", help="',', ';', '|' or 'tab'")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count, writing nothing"
        )
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
        if not path.is_file():
            raise CommandError(f"Cannot read {path}: no such file.")
        try:
            file_format = file_format_resolve(
                tenant=tenant,
                kind=options["kind"],
                source=options["source"],
                encoding=options["encoding"],
                delimiter=options["delimiter"],
                locale=options["locale"],
                date_order=options["date_format"],
            )
            run = import_path(
                tenant=tenant,
                kind=options["kind"],
                path=path,
                file_format=file_format,
                strict=not options["lenient"],
                dry_run=options["dry_run"],
                source=options["source"],
                progress=self._progress,
            )
        except DomainError as error:
            raise CommandError(f"{error.message} {error.fix}") from None
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None

        for error in run.errors:
            self.stderr.write(
                f"line {error['line']}, column {error['column'] or '-'}, "
                f"value {error['value']!r}: {error['message']}"
            )
        summary = import_summary(run)
        same_file = same_file_run(run)
        if same_file is not None:
            summary += f" Same file as import {same_file.pk}."
        if run.status == ImportRun.Status.FAILED:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))

    def _progress(self, done: int, total: int | None, stage: str) -> None:
        if total:
            self.stderr.write(f"{stage}: {done} of about {total} ({done * 100 // total}%)")
        else:
            self.stderr.write(f"{stage}: {done}")
