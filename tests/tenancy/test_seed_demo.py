"""`manage.py seed_demo`, which the README's demo command runs, fills every app and can run
again without harm."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django_scopes import scopes_disabled

from clients.models import Client
from tenancy.demo import DEMO_PASSWORD
from tenancy.models import Membership, Tenant

pytestmark = pytest.mark.django_db(transaction=True)


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_seed_demo_fills_three_tenants_and_is_idempotent(seeded_demo, settings):
    seeded_demo.restore()  # what `seed_demo` made of an empty database (tests/seeded_demo.py)
    with scopes_disabled():
        tenants = list(Tenant.objects.filter(slug__startswith="demo-"))
        assert len(tenants) == 3
        for tenant in tenants:
            assert Client.objects.filter(tenant=tenant).count() > 20
            roles = set(Membership.objects.filter(tenant=tenant).values_list("role", flat=True))
            assert roles == {"owner", "manager", "accountant", "viewer"}
    users = get_user_model().objects
    assert users.get(username="admin").is_superuser
    assert users.get(username="demo").check_password(DEMO_PASSWORD)

    output = seed()
    assert "already present" in output and DEMO_PASSWORD in output
    with scopes_disabled():
        assert Tenant.objects.filter(slug__startswith="demo-").count() == 3

    settings.DEBUG = False
    with pytest.raises(CommandError):
        seed("--reset")
