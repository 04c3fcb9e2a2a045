"""factory_boy factories. Tenant-owned rows are created with scopes disabled (tests set up data
across tenants); views under test still run inside the middleware's tenant scope."""

import factory
from django.contrib.auth import get_user_model
from django_scopes import scopes_disabled

from clients.models import Client, ClientGroup
from tenancy.models import Membership, Tenant
from tenancy.roles import Role
from tenancy.services import tenant_next_number

TEST_PASSWORD = "a-Long-test-password-42"


class UnscopedFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with scopes_disabled():
            return super()._create(model_class, *args, **kwargs)


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Provider {n}")
    slug = factory.Sequence(lambda n: f"provider-{n}")
    currency = "EUR"
    time_zone = "Europe/Berlin"
    # Every module, so that a test sees every field, column and tab unless it says otherwise.
    uses_routers = True
    uses_messaging = True
    uses_reseller = True


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"operator{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Operator {n}")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class MembershipFactory(UnscopedFactory):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER


class ClientGroupFactory(UnscopedFactory):
    class Meta:
        model = ClientGroup

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Group {n}")


class ClientFactory(UnscopedFactory):
    class Meta:
        model = Client

    tenant = factory.SubFactory(TenantFactory)
    number = factory.LazyAttribute(lambda c: tenant_next_number(tenant=c.tenant, name="client"))
    name = factory.Sequence(lambda n: f"Client {n}")
    company = factory.Sequence(lambda n: f"Company {n} Ltd")
    login = factory.Sequence(lambda n: f"+49151{n:08d}")
    email = factory.Sequence(lambda n: f"client{n}@example.com")
    contact_name = "Jane Contact"
    contact_email = factory.Sequence(lambda n: f"contact{n}@example.com")
    itn = factory.Sequence(lambda n: f"{7700000000 + n}")


def make_clients(tenant, count: int, **fields) -> list[int]:
    """`count` Active clients of `tenant` in a few bulk INSERTs (set-based: a test of thousands
    of clients does not save them one by one); returns their ids in order. `fields` are given
    to every client."""
    first = tenant_next_number(tenant=tenant, name="client", count=count)
    clients = []
    for offset in range(count):
        number = first + offset
        client = Client(
            tenant=tenant,
            number=number,
            name=f"Bulk client {number}",
            email=f"bulk{tenant.pk}-{number}@example.com",
            **fields,
        )
        client.refresh_search_text()
        clients.append(client)
    with scopes_disabled():
        created = Client.objects.bulk_create(clients, batch_size=2000)
    return [client.pk for client in created]


# -- billing -----------------------------------------------------------------------------------
def make_account(client, *, balance=None, credit_limit=None):
    """The client's account, topped up / with a credit limit through the services (so that the
    ledger stays consistent)."""
    from decimal import Decimal

    from django_scopes import scopes_disabled

    from billing.services import account_for_client, account_set_credit_limit, account_top_up

    with scopes_disabled():
        account = account_for_client(client=client)
        if credit_limit is not None:
            account_set_credit_limit(account=account, credit_limit=Decimal(credit_limit))
        if balance is not None and Decimal(balance) > 0:
            account_top_up(account=account, amount=Decimal(balance), comment="Opening balance")
        account.refresh_from_db()
    return account


# -- messaging ---------------------------------------------------------------------------------
class SenderIdFactory(UnscopedFactory):
    class Meta:
        model = "messaging.SenderId"

    client = factory.SubFactory(ClientFactory)
    tenant = factory.SelfAttribute("client.tenant")
    name = factory.Sequence(lambda n: f"Shop{n}")
    channel = "sms"
    status = "approved"
    purpose = "Order notifications"
    sample_text = "Your order 123 has shipped."
    documents_note = "Company registration extract"


def message_record(client, /, **overrides) -> dict:
    """One ingestion record for `client` (dict as the gateway's CSV / JSON lines carry it)."""
    message_record.counter += 1
    record = {
        "key": f"msg-{message_record.counter}",
        "client": client.number,
        "channel": "sms",
        "sender": "Shop",
        "recipient": "+37129123456",
        "text": "Hello",
        "status": "delivered",
        "sent_at": "2026-03-10T12:00:00+00:00",
    }
    record.update(overrides)
    return record


message_record.counter = 0


# -- packages and subscriptions ----------------------------------------------------------------
def _decimal(value):
    from decimal import Decimal

    return Decimal(value)


def _tenant_today(tenant):
    from subscriptions.models import tenant_today

    return tenant_today(tenant)


class PackageFactory(UnscopedFactory):
    class Meta:
        model = "subscriptions.Package"

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Package {n}")
    price = factory.LazyFunction(lambda: _decimal("30.00"))
    period_count = 1
    period_unit = "months"
    rate_limit = "20M/100M"
    pppoe_profile = "default"


class SubscriptionFactory(UnscopedFactory):
    """A subscription row written directly (no ledger entry): for history and page tests. Tests
    of purchases go through subscriptions.services.subscription_create."""

    class Meta:
        model = "subscriptions.Subscription"

    tenant = factory.SubFactory(TenantFactory)
    client = factory.SubFactory(ClientFactory, tenant=factory.SelfAttribute("..tenant"))
    package = factory.SubFactory(PackageFactory, tenant=factory.SelfAttribute("..tenant"))
    status = "active"
    start_date = factory.LazyAttribute(lambda s: _tenant_today(s.tenant))
    end_date = factory.LazyAttribute(lambda s: s.package.end_for(s.start_date))
    amount_paid = factory.LazyAttribute(lambda s: s.package.price)


# -- routers -----------------------------------------------------------------------------------
ROUTER_TEST_PASSWORD = "router-Api-pass-91"


class RouterFactory(UnscopedFactory):
    """A router; point it at a simulator with host/port (the password is set encrypted)."""

    class Meta:
        model = "routers.Router"
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Router {n}")
    host = "127.0.0.1"
    port = 8728
    username = "admin"
    timeout = 1.0

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):  # noqa: N805
        obj.set_password(ROUTER_TEST_PASSWORD if extracted is None else extracted)
        if create:
            with scopes_disabled():
                obj.save(update_fields=["password_encrypted"])


class PppoeAccountFactory(UnscopedFactory):
    class Meta:
        model = "routers.PppoeAccount"
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    client = factory.SubFactory(ClientFactory, tenant=factory.SelfAttribute("..tenant"))
    router = factory.SubFactory(RouterFactory, tenant=factory.SelfAttribute("..tenant"))
    username = factory.Sequence(lambda n: f"pppoe{n}")
    profile = "default"
    sync_state = "synced"

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):  # noqa: N805
        obj.set_password(extracted or "ppp-secret-1")
        if create:
            with scopes_disabled():
                obj.save(update_fields=["password_encrypted"])
