"""Demo clients for each tenant."""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from tenancy.services import tenant_next_number

from .models import Channel, Client, ClientGroup, ClientStatus, PropertyType

FIRST = [
    "Anna",
    "Boris",
    "Clara",
    "David",
    "Elena",
    "Felix",
    "Greta",
    "Hugo",
    "Irina",
    "Jonas",
    "Katja",
    "Lukas",
    "Marta",
    "Nikolai",
    "Olga",
    "Pavel",
    "Quinn",
    "Rita",
    "Sergei",
    "Tanja",
]
LAST = [
    "Bauer",
    "Ivanova",
    "Keller",
    "Lindqvist",
    "Müller",
    "Novak",
    "Orlov",
    "Petrov",
    "Schmidt",
    "Sokolova",
    "Weber",
    "Zimmermann",
    "Fischer",
    "Kuznetsov",
    "Berg",
]
COMPANY = [
    "Alpha Logistics",
    "Baltic Foods",
    "Cedar Dental",
    "Delta Print",
    "Echo Travel",
    "Forest Labs",
    "Granite Build",
    "Harbor Cafe",
    "Iris Fashion",
    "Juniper Legal",
    "Kite Media",
    "Lumen Energy",
    "Maple Clinic",
    "Nova Retail",
    "Orbit Games",
]
GROUPS = {
    "isp": ["Home", "Business", "Premium"],
    "reseller": ["Enterprise", "SMB", "Education", "Non-profit"],
    "sms": ["Retail", "Banking", "Delivery", "Government"],
}
COUNT = {"isp": 80, "reseller": 120, "sms": 60}


def _client(tenant, key, number, group, rng, now) -> Client:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = f"{rng.choice(COMPANY)} {rng.choice(['GmbH', 'LLC', 'Ltd', 'SIA', 'OOO'])}"
    created = now - timedelta(days=rng.randint(1, 900), minutes=rng.randint(0, 1440))
    bought = created + timedelta(days=rng.randint(0, 300)) if rng.random() < 0.8 else None
    status = rng.choices(list(ClientStatus), weights=[85, 5, 6, 4])[0]
    slug = company.split()[0].lower()
    return Client(
        tenant=tenant,
        number=number,
        name=f"{first} {last}",
        company=company,
        login=f"+4915{rng.randint(10000000, 99999999)}",
        email=f"{first.lower()}.{last.lower()}{number}@example.com",
        phone=f"+49 30 {rng.randint(1000000, 9999999)}",
        address=f"{rng.randint(1, 200)} {rng.choice(['Linden', 'Birch', 'Harbor'])} Street",
        contact_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        contact_email=f"contact{number}@{slug}.example.com",
        itn=str(rng.randint(10**9, 10**10 - 1)),
        group=group,
        status=status,
        property_type=rng.choice(list(PropertyType)),
        region=rng.choice(["Berlin", "Bavaria", "Riga", "New York", "Texas"]),
        site=f"https://{slug}.example.com",
        channel=rng.choice(list(Channel)),
        external_tenant_name=f"{slug}{number}.onmicrosoft.com" if key == "reseller" else "",
        registered_on=created.date(),
        sms_price=Decimal(rng.choice(["0.0350", "0.0420", "0.0510"])) if key == "sms" else 0,
        sms_subscription=key == "sms",
        last_purchase_at=min(bought, now) if bought else None,
        created_at=created,
    )


def seed(context: dict, log) -> None:
    rng = random.Random(2026)
    now = timezone.now()
    context["clients"] = {}
    for key, tenant in context["tenants"].items():
        groups = [
            ClientGroup.objects.for_tenant(tenant).create(tenant=tenant, name=name)
            for name in GROUPS[key]
        ]
        first = tenant_next_number(tenant=tenant, name="client", count=COUNT[key])
        clients = [
            _client(tenant, key, first + i, rng.choice(groups), rng, now) for i in range(COUNT[key])
        ]
        for client in clients:
            client.refresh_search_text()
        Client.objects.for_tenant(tenant).bulk_create(clients)
        context["clients"][key] = list(Client.objects.for_tenant(tenant).order_by("number"))
    log(f"Created {sum(COUNT.values())} clients.")
