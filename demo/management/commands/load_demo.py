"""Create or refresh the demo tenant from the bundled real data."""

from django.core.management.base import BaseCommand

from demo.services import demo_load


class Command(BaseCommand):
    help = "Load the demo tenant (real CRM data, Inc. 5000 prospects, generated partners)."

    def handle(self, *args, **options):
        result = demo_load()
        version = result["icp_version"]
        self.stdout.write(self.style.SUCCESS(f"Demo tenant ready: {result['tenant'].name}"))
        self.stdout.write(f"  ICP v{version.number} ({version.signal} signal): {version.summary}")
        self.stdout.write(f"  Won deals processed now: {result['processed']}")
        self.stdout.write(f"  Logins (password for all: {result['password']}):")
        for username, role in result["logins"]:
            self.stdout.write(f"    {username:<10} {role}")
        self.stdout.write(f"  API key: {result['api_key']}")
