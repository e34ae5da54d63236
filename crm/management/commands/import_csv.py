"""Import a CSV file given by position: the older spelling of `csv_import --file`."""

from pathlib import Path

from crm.management.commands.csv_import import Command as CsvImportCommand


class Command(CsvImportCommand):
    help = "Import a CSV file (same as `csv_import --file FILE`; see docs/csv-import.md)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="path of the CSV file")
        self.add_import_arguments(parser)
