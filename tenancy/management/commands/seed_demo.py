"""Fill an empty database with three demo tenants and realistic data.

Each app that has demo data provides `<app>.demo.seed(context, log)`; they run in the order of
DEMO_SEEDERS and share `context` (tenants, operators, ...).
"""

import importlib

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_scopes import scopes_disabled

from tenancy.demo import DEMO_PASSWORD, DEMO_TENANTS
from tenancy.models import Tenant
from tenancy.roles import Role

DEMO_SEEDERS = [
    "tenancy.demo",
    "clients.demo",
    "billing.demo",
    "subscriptions.demo",
    "routers.demo",
    "messaging.demo",
    "holds.demo",  # last: puts holds behind the demo statuses, then runs the jobs
]


class Command(BaseCommand):
    help = "Create demo tenants, operators and data (does nothing if they exist, unless --reset)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Empty the whole database first (DEBUG only: the ledger is never deleted row by "
            "row, so a reset is a flush of the demo database).",
        )

    def handle(self, *args, reset: bool = False, **options):
        with scopes_disabled():
            if Tenant.objects.filter(slug__startswith="demo-").exists():
                if not reset:
                    self.stdout.write("Demo data already present (use --reset to recreate).")
                    self.print_logins()
                    return
                self.delete_demo_data()
            context: dict = {}
            with transaction.atomic():
                for module_name in DEMO_SEEDERS:
                    importlib.import_module(module_name).seed(context, self.stdout.write)
        self.print_logins()

    def delete_demo_data(self):
        if not settings.DEBUG:
            raise CommandError(
                "--reset empties the database; it runs only with DEBUG=1 (the demo)."
            )
        call_command("flush", interactive=False, verbosity=0)

    def demo_usernames(self) -> list[str]:

        return ["admin", "demo"] + [f"{k}-{r.value}" for k in DEMO_TENANTS for r in Role]

    def print_logins(self):
        self.stdout.write(self.style.SUCCESS(f"Logins (password for all: {DEMO_PASSWORD}):"))
        for username in self.demo_usernames():
            self.stdout.write(f"  {username}")
