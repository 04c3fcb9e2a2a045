"""Demo clients for each tenant.

The records look imported from older systems: names with accents and in mixed case, phone
numbers written every which way, several countries, e-mail addresses with the name's own
letters (umlauts, ł, ā) or typed in capitals, fields left empty. Every value is one the client
form accepts as typed: the login in E.164 (what the form stores), internationalised e-mail
addresses as RFC 6531 allows, registration numbers that pass the country's check, a region of
the client's country (REGIONS; none without a country).

What other records decide is left to them: the last purchase date is set by the purchases
(subscriptions.demo charges each period through the ledger, which records it), and a financial
hold by the ledger going below zero (holds.demo), so a seeded client is never "on financial
hold" or "bought" without the records behind it.
"""

import random
import unicodedata
from datetime import timedelta
from decimal import Decimal

import phonenumbers
from django.utils import timezone
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from tenancy.services import tenant_next_number

from .models import Channel, Client, ClientGroup, ClientStatus, PropertyType
from .validators import is_valid_russian_inn

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
    "José",
    "Łukasz",
    "Zoë",
    "Jānis",
    "Aušra",
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
    "Ozoliņš",
    "Kazlauskienė",
    "Tamm",
    "O'Brien",
    "García",
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
# (country, weight) per tenant; "" is an old record imported without a country.
COUNTRIES = {
    "isp": [("DE", 60), ("AT", 12), ("PL", 8), ("NL", 6), ("", 14)],
    "reseller": [("US", 50), ("CA", 12), ("GB", 18), ("DE", 8), ("", 12)],
    "sms": [("LV", 35), ("LT", 20), ("EE", 15), ("RU", 10), ("DE", 8), ("", 12)],
}
REGIONS = {
    "DE": ["Berlin", "Bavaria", "Hamburg", "Saxony"],
    "AT": ["Vienna", "Tyrol"],
    "PL": ["Mazovia", "Lesser Poland"],
    "NL": ["North Holland", "Utrecht"],
    "US": ["New York", "Texas", "California", "Ohio"],
    "CA": ["Ontario", "Quebec"],
    "GB": ["Greater London", "West Midlands"],
    "LV": ["Riga", "Kurzeme"],
    "LT": ["Vilnius", "Kaunas"],
    "EE": ["Harju", "Tartu"],
    "RU": ["Moscow", "Saint Petersburg"],
}
MISSING_REGION = 0.15  # share of records imported without a region
STATUSES = [ClientStatus.ACTIVE, ClientStatus.ADMINISTRATIVE_HOLD, ClientStatus.DELETED]
# How an operator once typed a phone number into the free-text phone field.
PHONE_STYLES = ("international", "national", "e164", "dashes", "dots", "spaced")


def email_letters(text: str) -> str:
    """The letters of a name as an internationalised address keeps them (ü, ł, ā), lower case."""
    return "".join(ch for ch in text if ch.isalnum()).lower()


def ascii_slug(text: str) -> str:
    """The letters of a name an e-mail address can carry: accents dropped, ł → l, ß → ss."""
    text = text.replace("ß", "ss").replace("ł", "l").replace("Ł", "L")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text if ch.isalnum())


def valid_number(region: str, kind, rng: random.Random):
    """A number that is valid for `region`: the region's example number with random digits."""
    template = str(phonenumbers.example_number_for_type(region, kind).national_number)
    for _ in range(200):
        keep = max(2, len(template) - 6)
        digits = template[:keep] + "".join(rng.choice("0123456789") for _ in template[keep:])
        number = phonenumbers.parse(digits, region)
        if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
            kind,
            PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            return number
    return phonenumbers.example_number_for_type(region, kind)


def login_for(region: str, rng: random.Random) -> str:
    """A mobile number in E.164, the form in which the client form stores a login."""
    number = valid_number(region or "DE", PhoneNumberType.MOBILE, rng)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def phone_for(region: str, rng: random.Random) -> str:
    """A landline written as people write it; the phone field is free text."""
    number = valid_number(region or "DE", PhoneNumberType.FIXED_LINE, rng)
    style = rng.choice(PHONE_STYLES)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    if style == "national":
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    if style == "e164":
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if style == "dashes":
        return international.replace(" ", "-")
    if style == "dots":
        return "00" + international[1:].replace(" ", ".").replace("-", ".")
    if style == "spaced":
        return international.replace("-", " ")
    return international


def itn_for(country: str, company: bool, rng: random.Random) -> str:
    """A registration number that passes the country's check (digits only elsewhere)."""
    if country == "RU":
        length = 10 if company else 12
        while True:
            value = "".join(rng.choice("0123456789") for _ in range(length))
            if value[0] != "0" and is_valid_russian_inn(value):
                return value
    length = {"US": 9, "CA": 9, "GB": 8, "LV": 11, "LT": 9, "EE": 8}.get(country, 10)
    return str(rng.randint(10 ** (length - 1), 10**length - 1))


def to_minute(moment):
    """Dates typed into the old system, to the minute."""
    return moment.replace(second=0, microsecond=0) if moment else None


def region_for(country: str, rng: random.Random) -> str:
    """A region of the client's country, or none (none at all without a country)."""
    if not country or rng.random() < MISSING_REGION:
        return ""
    return rng.choice(REGIONS[country])


def email_for(first: str, last: str, number: int, rng: random.Random) -> str:
    """An address as the old system kept it: mostly ASCII, some with the name's own letters,
    some typed with capitals long ago."""
    roll = rng.random()
    if roll < 0.2 and email_letters(first + last) != ascii_slug(first + last).lower():
        return f"{email_letters(first)}.{email_letters(last)}{number}@example.com"
    person = f"{ascii_slug(first)}.{ascii_slug(last)}".lower()
    email = f"{person}{number}@example.com"
    if roll > 0.85:
        email = email.title().replace("@Example.Com", "@Example.com")  # typed by hand long ago
    return email


def mixed_case(text: str, rng: random.Random) -> str:
    """Old records are typed in any case."""
    roll = rng.random()
    if roll < 0.08:
        return text.upper()
    if roll < 0.14:
        return text.lower()
    return text


def _client(tenant, key, number, group, rng, now) -> Client:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = f"{rng.choice(COMPANY)} {rng.choice(['GmbH', 'LLC', 'Ltd', 'SIA', 'OOO', 'UAB'])}"
    countries, weights = zip(*COUNTRIES[key], strict=True)
    country = rng.choices(countries, weights=weights)[0]
    created = now - timedelta(days=rng.randint(1, 900), minutes=rng.randint(0, 1440))
    logged_in = max(created, now - timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1440)))
    # A financial hold comes from the ledger (holds.demo), not from the imported record.
    status = rng.choices(STATUSES, weights=[89, 6, 5])[0]
    slug = company.split()[0].lower()
    email = email_for(first, last, number, rng)
    return Client(
        tenant=tenant,
        number=number,
        name=mixed_case(f"{first} {last}", rng),
        company=mixed_case(company, rng) if rng.random() < 0.85 else "",
        login=login_for(country, rng) if rng.random() < 0.95 else "",
        email=email if rng.random() < 0.95 else "",
        phone=phone_for(country, rng) if rng.random() < 0.8 else "",
        address=f"{rng.randint(1, 200)} {rng.choice(['Linden', 'Birch', 'Harbor'])} Street",
        contact_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        contact_email=f"contact{number}@{slug}.example.com",
        country=country,
        itn=itn_for(country, company=rng.random() < 0.6, rng=rng) if rng.random() < 0.9 else "",
        group=group,
        status=status,
        property_type=rng.choice(list(PropertyType)),
        region=region_for(country, rng),
        site=f"https://{slug}.example.com",
        channel=rng.choice(list(Channel)),
        external_tenant_name=f"{slug}{number}.onmicrosoft.com" if key == "reseller" else "",
        registered_on=created.date(),
        last_login_at=to_minute(logged_in) if rng.random() < 0.6 else None,
        failed_login_attempts=rng.choice([0] * 8 + [1, 3]),
        sms_price=Decimal(rng.choice(["0.0350", "0.0420", "0.0510"])) if key == "sms" else 0,
        sms_subscription=key == "sms",
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
