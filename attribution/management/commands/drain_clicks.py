"""Write the tracking-link clicks waiting in Redis, as the beat task does."""

from django.core.management.base import BaseCommand

from attribution import clickqueue
from attribution.clicks import clicks_drain


class Command(BaseCommand):
    help = "Write queued tracking-link clicks to the database in batches; safe to stop and rerun."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="Clicks per transaction (default: TRACK360_CLICK_DRAIN_BATCH).",
        )
        parser.add_argument(
            "--max-batches",
            type=int,
            default=None,
            help="Stop after this many batches (default: until the queue is empty).",
        )

    def handle(self, *args, batch_size, max_batches, **options):
        result = clicks_drain(batch_size=batch_size, max_batches=max_batches)
        if result.skipped:
            self.stdout.write("Another drain is running; nothing done.")
            return
        queued, processing = clickqueue.lengths()
        self.stdout.write(
            f"Read {result.read} records in {result.batches} batches: {result.written} "
            f"written, {result.duplicates} written before, {result.invalid} invalid, "
            f"{result.orphaned} for deleted links. {queued} still queued."
        )
        if processing:
            self.stdout.write(f"{processing} records wait in the processing list.")
