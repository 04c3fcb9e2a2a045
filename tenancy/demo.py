"""Demo tenants, operators and the superuser for `manage.py seed_demo`."""

from django.contrib.auth import get_user_model

from .models import Membership, Tenant
from .roles import Role
from .services import saved_view_create

DEMO_PASSWORD = "clientdesk-demo"

DEMO_TENANTS = {
    "isp": {
        "name": "Northwind Broadband",
        "currency": "EUR",
        "time_zone": "Europe/Berlin",
        "uses_routers": True,
        "uses_messaging": False,
        "date_format": "d.m.Y",
        "time_format": "H:i",
    },
    # The reseller's seed comes from a Russian-speaking market ("ITN (INN)"): its operators and
    # its customers' e-mails speak Russian, its amounts are in roubles.
    "reseller": {
        "name": "Contoso Software Store",
        "currency": "RUB",
        "time_zone": "Europe/Moscow",
        "language": "ru",
        "uses_routers": False,
        "uses_messaging": False,
        "uses_reseller": True,
        "date_format": "d.m.Y",
        "time_format": "H:i",
        # A reseller's new customers order on credit: the first order needs no payment.
        "new_client_credit_limit": "500.00",
    },
    "sms": {
        "name": "Fabrikam Messaging",
        "currency": "EUR",
        "time_zone": "Europe/Riga",
        "uses_routers": False,
        "uses_messaging": True,
        "date_format": "Y-m-d",
        "time_format": "H:i",
    },
}


def seed(context: dict, log) -> None:
    user_model = get_user_model()
    admin = user_model.objects.create_superuser("admin", "admin@example.com", DEMO_PASSWORD)
    context["superuser"] = admin
    context["tenants"] = {}
    logins = [
        ("admin", "superuser (Django admin; sets up an authenticator app on its first visit)")
    ]
    everywhere = user_model.objects.create_user(
        "demo", "demo@example.com", DEMO_PASSWORD, first_name="Dana", last_name="Demo"
    )
    for key, fields in DEMO_TENANTS.items():
        tenant = Tenant.objects.create(slug=f"demo-{key}", **fields)
        context["tenants"][key] = tenant
        Membership.objects.for_tenant(tenant).create(
            tenant=tenant, user=everywhere, role=Role.OWNER
        )
        for role in Role:
            username = f"{key}-{role.value}"
            user = user_model.objects.create_user(
                username, f"{username}@example.com", DEMO_PASSWORD, first_name=role.label
            )
            Membership.objects.for_tenant(tenant).create(tenant=tenant, user=user, role=role)
            logins.append((username, f"{role.label} of {tenant.name}"))
        _seed_saved_view(tenant, key)
    logins.insert(1, ("demo", "owner in all three tenants (shows the tenant switcher)"))
    context["logins"] = logins
    log(f"Created {len(DEMO_TENANTS)} tenants and {len(logins)} logins.")


def _seed_saved_view(tenant: Tenant, key: str) -> None:
    """A view of the client list the owner saved and shared, one click from the list."""
    owner = Membership.objects.for_tenant(tenant).get(user__username=f"{key}-{Role.OWNER.value}")
    saved_view_create(
        tenant=tenant,
        actor=owner,
        list_name="clients:client_list",
        name="Active, newest first",
        query="status=active&sort=-created_at",
        columns=["name", "number", "status", "created_at"],
        per_page=20,
        shared=True,
    )
