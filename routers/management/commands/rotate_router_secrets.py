"""Re-encrypt every stored router and PPPoE password with the first key of ROUTER_SECRET_KEY
(key rotation: put the new key first, run this, then drop the old key)."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django_scopes import scopes_disabled

from core import crypto
from routers.models import PppoeAccount, Router


class Command(BaseCommand):
    help = "Re-encrypt stored router and PPPoE passwords with the newest ROUTER_SECRET_KEY."

    def handle(self, *args, **options):
        count = 0
        with scopes_disabled(), transaction.atomic():
            for model in (Router, PppoeAccount):
                rows = list(model.objects.select_for_update().only("id", "password_encrypted"))
                for row in rows:
                    row.password_encrypted = crypto.rotate(row.password_encrypted)
                model.objects.bulk_update(rows, ["password_encrypted"], batch_size=1000)
                count += len(rows)
        self.stdout.write(f"Re-encrypted {count} passwords.")
