"""The pages of packages and subscriptions: purchase, order, view, cancel, auto-renew; bad
input on every form (a message next to the field, nothing changed); roles (a viewer gets 403 on
every write) and tenants (another tenant's object is a 404) on every URL."""

from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from billing.models import Account, LedgerEntry
from clients.models import Client
from events.models import Event
from subscriptions.models import Package, Subscription, SubscriptionStatus
from tests.factories import ClientFactory, PackageFactory, SubscriptionFactory, make_account
from tests.helpers import assert_other_tenant_gives_404, assert_role_refused, field_errors

pytestmark = pytest.mark.django_db


def state(customer):
    """Everything a refused write must leave as it was."""
    with scopes_disabled():
        account = Account.objects.filter(client=customer).first()
        return (
            account.balance if account else None,
            LedgerEntry.objects.filter(account__client=customer).count(),
            list(
                Subscription.objects.filter(client=customer)
                .order_by("pk")
                .values_list("pk", "status", "auto_renew", "refunded_amount")
            ),
        )


def create_url(customer):
    return reverse("subscriptions:subscription_create", kwargs={"number": customer.number})


def buy_data(package, start, **extra):
    data = {"sub-package": package.pk, "sub-start_date": start.isoformat(), "sub-token": uuid4()}
    data.update(extra)
    return data


@pytest.fixture
def live(tenant, customer, package, today):
    return SubscriptionFactory(
        tenant=tenant,
        client=customer,
        package=package,
        start_date=today - timedelta(days=5),
        end_date=today + timedelta(days=25),
    )


# -- create subscription -------------------------------------------------------------------------
def test_create_page_lists_only_active_packages_of_tenant(
    client, owner, customer, package, other_tenant, tenant
):
    PackageFactory(tenant=tenant, name="Retired one", is_active=False)
    PackageFactory(tenant=other_tenant, name="Foreign one")
    response = client.get(create_url(customer))
    assert response.status_code == 200
    names = [p.name for p in response.context["form"].fields["package"].queryset]
    assert names == ["Home 100"]


def test_create_subscription_charges_and_redirects(client, owner, customer, package, funded, today):
    response = client.post(
        create_url(customer), buy_data(package, today, **{"sub-auto_renew": "on"})
    )
    assert response.status_code == 302 and response.url == customer.get_absolute_url()
    with scopes_disabled():
        sub = Subscription.objects.get(client=customer)
    assert sub.auto_renew and sub.created_by == owner.user
    assert state(customer)[0] == Decimal("70.00")
    page = client.get(response.url).content.decode()
    assert "Subscription Home 100 created" in page and "70.00 EUR" in page


def test_double_submit_buys_once(client, owner, customer, package, funded, today):
    data = buy_data(package, today)
    client.post(create_url(customer), data)
    response = client.post(create_url(customer), data)
    assert response.status_code == 302
    assert state(customer)[0] == Decimal("70.00") and len(state(customer)[2]) == 1


def test_insufficient_funds_message_next_to_package(client, owner, customer, package, today):
    make_account(customer, balance="5")
    before = state(customer)
    response = client.post(create_url(customer), buy_data(package, today))
    assert response.status_code == 400
    assert "Insufficient funds" in field_errors(response, "package")[0]
    assert state(customer) == before


def test_duplicate_package_refused_next_to_field(
    client, owner, customer, package, funded, live, today
):
    before = state(customer)
    response = client.post(create_url(customer), buy_data(package, today))
    assert response.status_code == 400
    assert "already has an active subscription" in field_errors(response, "package")[0]
    assert state(customer) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sub-package", "", "Choose a package."),
        ("sub-package", "999999", "Choose one of the packages on sale."),
        ("sub-start_date", "", "Enter the start date."),
        ("sub-start_date", "31.02.2026", "Enter a date as YYYY-MM-DD, e.g. 2026-01-31."),
        ("sub-start_date", "2000-01-01", "cannot be in the past"),
        ("sub-token", "", "The form has expired"),
    ],
)
def test_create_bad_input(client, owner, customer, package, funded, today, field, value, message):
    before = state(customer)
    data = buy_data(package, today)
    data[field] = value
    response = client.post(create_url(customer), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    shown = " ".join(str(e) for e in errors.get(field.removeprefix("sub-"), []))
    shown += " ".join(str(e) for e in errors.get("__all__", []))
    assert message in shown
    assert state(customer) == before


def test_retired_and_foreign_package_refused(
    client, owner, customer, funded, today, other_tenant, tenant
):
    retired = PackageFactory(tenant=tenant, is_active=False)
    foreign = PackageFactory(tenant=other_tenant)
    for package in (retired, foreign):
        response = client.post(create_url(customer), buy_data(package, today))
        assert response.status_code == 400 and field_errors(response, "package")
    assert state(customer)[1] == 1  # only the opening top-up


def test_deleted_client_cannot_buy(client, owner, customer, package, funded, today):
    with scopes_disabled():
        Client.objects.filter(pk=customer.pk).update(status="deleted")
    assert client.get(create_url(customer)).status_code == 302
    response = client.post(create_url(customer), buy_data(package, today))
    assert response.status_code == 400
    assert state(customer)[2] == []


# -- order subscription --------------------------------------------------------------------------
ORDER_URL = "/subscriptions/order/"
NEW_CLIENT_DEFAULTS = {"client-sms_price": "0", "client-failed_login_attempts": "0"}


def order_data(package, today, **extra):
    data = {
        "order-who": "existing",
        "order-package": package.pk,
        "order-start_date": today.isoformat(),
        "order-token": uuid4(),
    }
    data.update(extra)
    return data


def test_order_for_existing_client(client, owner, customer, package, funded, today):
    response = client.post(
        ORDER_URL, order_data(package, today, **{"order-client_number": customer.number})
    )
    assert response.status_code == 302 and response.url == customer.get_absolute_url()
    assert state(customer)[0] == Decimal("70.00")


def test_order_with_new_client_and_free_package(client, owner, tenant, today):
    free = PackageFactory(tenant=tenant, price=Decimal("0"), name="Trial")
    data = order_data(
        free, today, **{"order-who": "new", "client-name": "Brand New Ltd"}, **NEW_CLIENT_DEFAULTS
    )
    response = client.post(ORDER_URL, data)
    assert response.status_code == 302
    with scopes_disabled():
        created = Client.objects.get(name="Brand New Ltd")
        assert Subscription.objects.filter(client=created, package=free).exists()


def test_order_new_client_kept_only_if_purchase_goes_through(client, owner, tenant, package, today):
    with scopes_disabled():
        before = Client.objects.count()
    data = order_data(
        package,
        today,
        **{"order-who": "new", "client-name": "Short Of Funds"},
        **NEW_CLIENT_DEFAULTS,
    )
    response = client.post(ORDER_URL, data)
    assert response.status_code == 400
    assert "Insufficient funds" in field_errors(response, "payment")[0]
    assert "Enter the payment received" in field_errors(response, "payment")[0]
    assert "Nothing was saved" in field_errors(response, "payment")[0]
    with scopes_disabled():
        assert Client.objects.count() == before


def new_order(package, today, name="Paid At The Desk", **extra):
    return order_data(
        package, today, **{"order-who": "new", "client-name": name}, **NEW_CLIENT_DEFAULTS, **extra
    )


def ledger_of(name):
    with scopes_disabled():
        created = Client.objects.get(name=name)
        entries = list(
            LedgerEntry.objects.filter(account__client=created)
            .order_by("pk")
            .values_list("kind", "amount", "balance_after", "comment")
        )
        return created, Account.objects.get(client=created), entries


def test_order_new_client_with_the_payment_in_one_step(client, owner, package, today):
    """The seed's path: the customer is added when a subscription is ordered, and the payment
    taken at the same time is recorded as a top-up with its comment, then charged."""
    data = new_order(package, today, **{"order-payment": "50", "order-payment_comment": "Rcpt 7"})
    response = client.post(ORDER_URL, data)
    assert response.status_code == 302
    created, account, entries = ledger_of("Paid At The Desk")
    assert response.url == created.get_absolute_url()
    assert entries == [
        ("top_up", Decimal("50.00"), Decimal("50.00"), "Rcpt 7"),
        ("subscription_purchase", Decimal("-30.00"), Decimal("20.00"), ""),
    ]
    assert account.balance == Decimal("20.00")
    with scopes_disabled():
        verbs = list(
            Event.objects.filter(client_id=created.pk).order_by("pk").values_list("type", flat=True)
        )
    assert (
        verbs[0] == "client.created"
        and "subscription.created" in verbs
        and "ledger.entry_posted" in verbs
    )


def test_order_retried_with_the_same_token_posts_once(client, owner, package, today):
    data = new_order(package, today, **{"order-payment": "30"})
    assert client.post(ORDER_URL, data).status_code == 302
    assert client.post(ORDER_URL, data).status_code == 302
    with scopes_disabled():
        assert Client.objects.filter(name="Paid At The Desk").count() == 1
    _, account, entries = ledger_of("Paid At The Desk")
    assert len(entries) == 2 and account.balance == Decimal("0.00")


def test_order_refusal_keeps_what_was_typed(client, owner, package, today):
    data = new_order(package, today, name="Typed Carefully", **{"order-payment": "10.50"})
    data["client-email"] = "typed@example.com"
    response = client.post(ORDER_URL, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'value="Typed Carefully"' in body and 'value="typed@example.com"' in body
    assert 'value="10.50"' in body
    with scopes_disabled():
        assert not Client.objects.filter(name="Typed Carefully").exists()
        assert not LedgerEntry.objects.filter(comment="Typed Carefully").exists()


def test_manager_orders_a_new_client_on_the_tenants_credit(client, tenant, login_as, today):
    """A manager takes no money (no payment field); the tenant's credit for a first order lets
    the order be charged to the new account's credit."""
    tenant.new_client_credit_limit = Decimal("100.00")
    tenant.save()
    login_as(tenant, "manager")
    package = PackageFactory(tenant=tenant, name="Office 365", price=Decimal("45.00"))
    page = client.get(ORDER_URL)
    assert "payment" not in page.context["form"].fields
    response = client.post(ORDER_URL, new_order(package, today, **{"order-payment": "999"}))
    assert response.status_code == 302
    _, account, entries = ledger_of("Paid At The Desk")
    assert entries == [("subscription_purchase", Decimal("-45.00"), Decimal("-45.00"), "")]
    assert account.credit_limit == Decimal("100.00") and account.balance == Decimal("-45.00")


def test_a_paid_or_free_first_order_grants_no_credit(client, tenant, owner, today):
    tenant.new_client_credit_limit = Decimal("100.00")
    tenant.save()
    free = PackageFactory(tenant=tenant, name="Trial", price=Decimal("0"))
    paid = PackageFactory(tenant=tenant, name="Office", price=Decimal("45.00"))
    assert client.post(ORDER_URL, new_order(free, today, name="Free Order")).status_code == 302
    order = new_order(paid, today, name="Paid Order", **{"order-payment": "45"})
    assert client.post(ORDER_URL, order).status_code == 302
    with scopes_disabled():
        limits = Account.objects.filter(client__name__in=["Free Order", "Paid Order"])
        assert sorted(limits.values_list("credit_limit", flat=True)) == [0, 0]


def test_manager_without_credit_is_told_who_can_take_the_payment(client, tenant, login_as, today):
    login_as(tenant, "manager")
    package = PackageFactory(tenant=tenant, price=Decimal("45.00"))
    response = client.post(ORDER_URL, new_order(package, today))
    assert response.status_code == 400
    assert "Ask an owner or accountant" in field_errors(response, "package")[0]
    with scopes_disabled():
        assert not Client.objects.filter(name="Paid At The Desk").exists()


def test_order_existing_client_with_a_payment(client, owner, customer, package, today):
    data = order_data(
        package, today, **{"order-client_number": customer.number, "order-payment": "30"}
    )
    response = client.post(ORDER_URL, data)
    assert response.status_code == 302
    balance, entries, subscriptions = state(customer)
    assert balance == Decimal("0.00") and entries == 2 and len(subscriptions) == 1


def test_order_new_client_validated_as_on_client_form(client, owner, tenant, package, today):
    data = order_data(
        package, today, **{"order-who": "new", "client-name": " ", "client-email": "not-an-email"}
    )
    response = client.post(ORDER_URL, data)
    assert response.status_code == 400
    client_form = response.context["form"].client_form
    assert client_form.errors["name"] and client_form.errors["email"]
    assert 'data-field-error="client-name"' in response.content.decode()


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"order-client_number": ""}, "client_number", "Enter the Client ID"),
        ({"order-client_number": "99999"}, "client_number", "no client with ID 99999"),
        ({"order-client_number": "abc"}, "client_number", "Enter the client's number"),
        ({"order-who": "someone"}, "who", "Select a valid choice"),
    ],
)
def test_order_bad_input(client, owner, customer, package, funded, today, extra, field, message):
    before = state(customer)
    response = client.post(ORDER_URL, order_data(package, today, **extra))
    assert response.status_code == 400
    assert message in " ".join(field_errors(response, field))
    assert state(customer) == before


def test_order_refuses_other_tenants_client(client, owner, tenant, other_tenant, package, today):
    mine = ClientFactory(tenant=tenant)
    foreign = ClientFactory(tenant=other_tenant)
    while foreign.number <= mine.number:
        foreign = ClientFactory(tenant=other_tenant)
    data = order_data(package, today, **{"order-client_number": foreign.number})
    response = client.post(ORDER_URL, data)
    assert response.status_code == 400
    assert f"no client with ID {foreign.number}" in field_errors(response, "client_number")[0]
    with scopes_disabled():
        assert not Subscription.objects.filter(client=foreign).exists()


def test_order_page_prefills_client_and_package(client, owner, customer, package):
    response = client.get(f"{ORDER_URL}?client={customer.number}&package={package.pk}")
    form = response.context["form"]
    assert (
        form.initial["client_number"] == customer.number and form.initial["package"] == package.pk
    )


# -- view, cancel, auto-renew -------------------------------------------------------------------
def detail_url(sub):
    return reverse("subscriptions:subscription_detail", kwargs={"pk": sub.pk})


def cancel_url(sub):
    return reverse("subscriptions:subscription_cancel", kwargs={"pk": sub.pk})


def renew_url(sub):
    return reverse("subscriptions:subscription_auto_renew", kwargs={"pk": sub.pk})


def test_view_subscription_shows_periods_and_entries(
    client, owner, customer, package, funded, today
):
    client.post(create_url(customer), buy_data(package, today))
    with scopes_disabled():
        sub = Subscription.objects.get(client=customer)
        Subscription.objects.filter(pk=sub.pk).update(status="expired")
        renewal = SubscriptionFactory(
            tenant=sub.tenant,
            client=customer,
            package=package,
            status="active",
            start_date=sub.end_date,
            end_date=package.end_for(sub.end_date),
            renewal_of=sub,
            origin=sub,
        )
    response = client.get(detail_url(renewal))
    assert response.status_code == 200
    assert [p.pk for p in response.context["periods"]] == [renewal.pk, sub.pk]
    entries = list(response.context["entries"])
    assert [e.pk for e in entries] == [sub.charge_entry_id]
    html = response.content.decode()
    assert 'data-testid="ledger-entries"' in html and "-30.00" in html


def test_cancel_with_refund_through_the_page(client, owner, customer, package, funded, today):
    client.post(create_url(customer), buy_data(package, today))
    with scopes_disabled():
        sub = Subscription.objects.get(client=customer)
    page = client.get(cancel_url(sub))
    assert page.status_code == 200 and page.context["refund_preview"] > 0
    response = client.post(cancel_url(sub), {"cancel-reason": "Moving away", "cancel-refund": "on"})
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.CANCELLED
    assert state(customer)[0] == Decimal("70.00") + sub.refunded_amount
    # cancelling again is refused and changes nothing
    before = state(customer)
    assert client.get(cancel_url(sub)).status_code == 302
    again = client.post(cancel_url(sub), {"cancel-reason": "x", "cancel-refund": "on"})
    assert again.status_code == 400 and state(customer) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cancel-reason": ""}, "Say why the subscription is cancelled."),
        ({"cancel-reason": "   "}, "Say why the subscription is cancelled."),
        ({"cancel-reason": "x" * 501}, "at most 500 characters"),
    ],
)
def test_cancel_bad_input(client, owner, customer, live, data, message):
    before = state(customer)
    response = client.post(cancel_url(live), {**data, "cancel-refund": "on"})
    assert response.status_code == 400
    assert message in " ".join(field_errors(response, "reason"))
    assert 'data-field-error="cancel-reason"' in response.content.decode()
    assert state(customer) == before


def test_toggle_auto_renew(client, owner, customer, live):
    assert client.post(renew_url(live), {"auto_renew": "on"}).status_code == 302
    live.refresh_from_db()
    assert live.auto_renew
    response = client.post(renew_url(live), {"next": "client"})
    assert response.url == customer.get_absolute_url()
    live.refresh_from_db()
    assert not live.auto_renew


def test_auto_renew_refused_on_cancelled(client, owner, customer, tenant, package):
    done = SubscriptionFactory(tenant=tenant, client=customer, package=package, status="cancelled")
    client.post(renew_url(done), {"auto_renew": "on"})
    done.refresh_from_db()
    assert not done.auto_renew


def test_client_subscriptions_tab_filters(client, owner, customer, tenant, package, live, today):
    SubscriptionFactory(
        tenant=tenant,
        client=customer,
        status="expired",
        start_date=today - timedelta(days=90),
        end_date=today - timedelta(days=60),
    )
    url = reverse("subscriptions:client_subscriptions", kwargs={"number": customer.number})
    response = client.get(url)
    assert response.status_code == 200 and response.context["active_tab"] == "subscriptions"
    assert response.context["table"].paginator.count == 2
    expired = client.get(url, {"status": "expired"}).context["table"]
    assert [r.record.status for r in expired.page.object_list] == ["expired"]
    bad = client.get(url, {"status": "nonsense"})
    assert bad.status_code == 200 and bad.context["filter"].errors


# -- packages ------------------------------------------------------------------------------------
PACKAGES_URL = "/subscriptions/packages/"


def package_post(**overrides):
    data = {
        "name": "Fiber 500",
        "price": "49.90",
        "period_count": "1",
        "period_unit": "months",
        "description": "",
        "rate_limit": "100M/500M",
        "pppoe_profile": "fiber500",
    }
    data.update(overrides)
    return data


def test_package_list_filters(client, owner, tenant, other_tenant):
    PackageFactory(tenant=tenant, name="Home 50")
    PackageFactory(tenant=tenant, name="Old plan", is_active=False)
    PackageFactory(tenant=other_tenant, name="Foreign plan")
    names = lambda r: [row.record.name for row in r.context["table"].page.object_list]  # noqa: E731
    assert sorted(names(client.get(PACKAGES_URL))) == ["Home 50", "Old plan"]
    assert names(client.get(PACKAGES_URL, {"status": "retired"})) == ["Old plan"]
    assert names(client.get(PACKAGES_URL, {"q": "home"})) == ["Home 50"]


def test_package_create_and_edit(client, owner, tenant):
    response = client.post("/subscriptions/packages/new/", package_post())
    assert response.status_code == 302
    with scopes_disabled():
        package = Package.objects.get(tenant=tenant, name="Fiber 500")
    assert package.price == Decimal("49.90")
    url = reverse("subscriptions:package_edit", kwargs={"pk": package.pk})
    assert client.post(url, package_post(price="55.00")).status_code == 302
    package.refresh_from_db()
    assert package.price == Decimal("55.00")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("price", "abc", "Enter a number"),
        ("price", "-1", "cannot be negative"),
        ("price", "1.999", "2 decimal places"),
        ("period_count", "0", "between 1 and 3650"),
        ("period_count", "x", "Enter a whole number."),
        ("period_unit", "weeks", "Select a valid choice"),
        ("rate_limit", "fast", "MikroTik"),
        ("pppoe_profile", "bad;profile", "letters, digits"),
    ],
)
def test_package_bad_input(client, owner, tenant, field, value, message):
    existing = PackageFactory(tenant=tenant, name="Keep me", price=Decimal("10"))
    for url in (
        "/subscriptions/packages/new/",
        reverse("subscriptions:package_edit", kwargs={"pk": existing.pk}),
    ):
        response = client.post(url, package_post(**{field: value}))
        assert response.status_code == 400
        assert message in " ".join(field_errors(response, field)), url
        assert f'data-field-error="{field}"' in response.content.decode()
    existing.refresh_from_db()
    assert existing.name == "Keep me" and existing.price == Decimal("10")
    with scopes_disabled():
        assert Package.objects.filter(tenant=tenant).count() == 1


def test_package_duplicate_name_next_to_field(client, owner, tenant):
    PackageFactory(tenant=tenant, name="Fiber 500")
    response = client.post("/subscriptions/packages/new/", package_post())
    assert response.status_code == 400
    assert "already exists" in field_errors(response, "name")[0]


def test_retire_and_reactivate(client, owner, tenant, package):
    client.post(reverse("subscriptions:package_retire", kwargs={"pk": package.pk}))
    package.refresh_from_db()
    assert not package.is_active
    client.post(reverse("subscriptions:package_reactivate", kwargs={"pk": package.pk}))
    package.refresh_from_db()
    assert package.is_active


# -- roles and tenants on every URL -------------------------------------------------------------
def write_requests(customer, package, sub, today):
    """(url, data) of every write of this app."""
    return [
        (create_url(customer), buy_data(package, today)),
        (ORDER_URL, order_data(package, today, **{"order-client_number": customer.number})),
        (cancel_url(sub), {"cancel-reason": "x", "cancel-refund": "on"}),
        (renew_url(sub), {"auto_renew": "on"}),
        ("/subscriptions/packages/new/", package_post()),
        (reverse("subscriptions:package_edit", kwargs={"pk": package.pk}), package_post()),
        (reverse("subscriptions:package_retire", kwargs={"pk": package.pk}), {}),
        (reverse("subscriptions:package_reactivate", kwargs={"pk": package.pk}), {}),
    ]


@pytest.mark.parametrize("role", ["viewer", "accountant"])
def test_roles_without_manage_subscriptions_get_403_on_every_write(
    client, tenant, login_as, customer, package, funded, live, today, role
):
    login_as(tenant, role)
    before = state(customer)
    for url, data in write_requests(customer, package, live, today):
        assert_role_refused(client, url, "post", data)
    for url in (create_url(customer), ORDER_URL, cancel_url(live), "/subscriptions/packages/new/"):
        assert_role_refused(client, url)
    assert state(customer) == before
    # reading is allowed
    assert client.get(detail_url(live)).status_code == 200
    assert client.get(PACKAGES_URL).status_code == 200


def test_manager_may_write(client, tenant, login_as, customer, package, funded, today):
    login_as(tenant, "manager")
    assert client.post(create_url(customer), buy_data(package, today)).status_code == 302


def test_another_tenants_objects_are_404(client, owner, tenant, other_tenant, today):
    mine = ClientFactory(tenant=tenant)
    foreign_client = ClientFactory(tenant=other_tenant)
    while foreign_client.number <= mine.number:  # a number only the other tenant has
        foreign_client = ClientFactory(tenant=other_tenant)
    foreign_package = PackageFactory(tenant=other_tenant)
    foreign_sub = SubscriptionFactory(
        tenant=other_tenant, client=foreign_client, package=foreign_package
    )
    urls = [
        reverse("subscriptions:client_subscriptions", kwargs={"number": foreign_client.number}),
        create_url(foreign_client),
        detail_url(foreign_sub),
        cancel_url(foreign_sub),
        reverse("subscriptions:package_edit", kwargs={"pk": foreign_package.pk}),
    ]
    for url in urls:
        assert_other_tenant_gives_404(client, url)
    for url, data in write_requests(foreign_client, foreign_package, foreign_sub, today):
        if url in (ORDER_URL, "/subscriptions/packages/new/"):
            continue  # not object URLs (the order refuses a foreign number: see above)
        assert_other_tenant_gives_404(client, url, "post", data)
    foreign_sub.refresh_from_db()
    assert foreign_sub.status == "active" and not foreign_sub.auto_renew
    foreign_package.refresh_from_db()
    assert foreign_package.is_active and foreign_package.name.startswith("Package")


def test_subscriptions_tab_expiring_filter_and_htmx_fragment(
    client, owner, customer, tenant, today
):
    tenant.expiring_window_days = 7
    tenant.save()
    SubscriptionFactory(
        tenant=tenant,
        client=customer,
        start_date=today - timedelta(days=20),
        end_date=today + timedelta(days=7),
    )
    SubscriptionFactory(
        tenant=tenant,
        client=customer,
        start_date=today - timedelta(days=20),
        end_date=today + timedelta(days=8),
    )
    url = reverse("subscriptions:client_subscriptions", kwargs={"number": customer.number})
    expiring = client.get(url, {"status": "expiring"}).context["table"]
    assert [r.record.end_date for r in expiring.page.object_list] == [today + timedelta(days=7)]
    active = client.get(url, {"status": "active"}).context["table"]
    assert [r.record.end_date for r in active.page.object_list] == [today + timedelta(days=8)]
    fragment = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table-region")
    assert fragment.content.decode().lstrip().startswith('<div id="table-region"')
    assert "HX-Request" in fragment["Vary"]


@pytest.mark.parametrize("renewals", [1, 30])
def test_subscription_page_queries_do_not_grow_with_renewals(
    client, owner, customer, tenant, package, funded, today, renewals, django_assert_max_num_queries
):
    client.post(create_url(customer), buy_data(package, today))
    with scopes_disabled():
        first = Subscription.objects.get(client=customer)
        Subscription.objects.filter(pk=first.pk).update(status="expired")
        previous, start = first, first.end_date
        for _ in range(renewals):
            previous = SubscriptionFactory(
                tenant=tenant,
                client=customer,
                package=package,
                status="expired",
                start_date=start,
                end_date=package.end_for(start),
                renewal_of=previous,
                origin=first,
            )
            start = previous.end_date
    with django_assert_max_num_queries(9):
        response = client.get(detail_url(previous))
    assert len(response.context["periods"]) == renewals + 1


def test_package_filters_ignore_bad_values_with_a_message(client, owner, tenant):
    PackageFactory(tenant=tenant, name="Daily", period_unit="days", period_count=1)
    PackageFactory(tenant=tenant, name="Monthly")
    response = client.get(PACKAGES_URL, {"period_unit": "days"})
    assert [r.record.name for r in response.context["table"].page.object_list] == ["Daily"]
    bad = client.get(PACKAGES_URL, {"period_unit": "weeks", "status": "gone"})
    assert bad.status_code == 200
    assert set(bad.context["filter"].errors) == {"period_unit", "status"}
    assert bad.context["table"].paginator.count == 2


@pytest.mark.parametrize("rows", [1, 30])
def test_package_list_query_count_does_not_grow(
    client, owner, tenant, rows, django_assert_max_num_queries
):
    PackageFactory.create_batch(rows, tenant=tenant)
    with django_assert_max_num_queries(6):  # the list toolbar's saved views: one
        response = client.get(PACKAGES_URL, {"per_page": 50})
    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == rows


@pytest.mark.parametrize("rows", [1, 30])
def test_client_subscriptions_tab_query_count_does_not_grow(
    client, owner, tenant, customer, package, rows, django_assert_max_num_queries
):
    SubscriptionFactory.create_batch(
        rows, tenant=tenant, client=customer, package=package, status="expired"
    )
    url = reverse("subscriptions:client_subscriptions", kwargs={"number": customer.number})
    with django_assert_max_num_queries(7):
        response = client.get(url, {"per_page": 50})
    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == rows


def test_refused_order_for_an_existing_client_leaves_the_new_client_part_unchecked(
    client, owner, customer, package, today
):
    """An order for an existing client that is refused (here: no funds) says why next to its
    own fields; the New client part, not chosen, shows what was typed in it and no message."""
    make_account(customer, balance="0")
    data = order_data(package, today, **{"order-client_number": customer.number})
    data["client-email"] = "typed@example.com"
    response = client.post(ORDER_URL, data)
    assert response.status_code == 400
    form = response.context["form"]
    assert not form.client_form.is_bound and not form.client_form.errors
    assert 'value="typed@example.com"' in response.content.decode()
