"""Why an adoption failed is stored as its message: the routers migration keeps an old
error's words forward (shown as they were in every language) and a message's back; the admin
shows it rendered."""

import pytest
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from core.stored_text import literal_text, stored_gettext
from routers.models import RouterAdoption
from tests.factories import RouterFactory, UserFactory
from tests.helpers import force_login_verified, migrated_back_to

NOT_ALLOWED = "The operator who confirmed this adoption may no longer adopt."
NOT_ALLOWED_RU = "Оператору, подтвердившему перенос, это больше не разрешено."


def adoption(tenant, error):
    with scopes_disabled():
        return RouterAdoption.objects.create(
            tenant=tenant, router=RouterFactory(tenant=tenant), status="failed", error=error
        )


@pytest.mark.django_db
def test_the_admin_shows_the_reason_in_the_admins_language(client, tenant):
    job = adoption(tenant, stored_gettext(NOT_ALLOWED))
    force_login_verified(client, UserFactory(is_superuser=True, is_staff=True))
    change = reverse("admin:routers_routeradoption_change", args=[job.pk])
    russian = client.get(change, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert NOT_ALLOWED_RU in russian and '"msgid"' not in russian
    assert NOT_ALLOWED in client.get(change, HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_an_old_error_forward_and_a_message_back(tenant):
    job = adoption(tenant, stored_gettext(NOT_ALLOWED))
    with migrated_back_to(("routers", "0012_translatable_labels")) as cursor:
        cursor.execute("SELECT error FROM routers_routeradoption WHERE id = %s", [job.pk])
        assert cursor.fetchone() == (NOT_ALLOWED,)
        cursor.execute(
            "UPDATE routers_routeradoption SET error = %s WHERE id = %s",
            ["Core North refused the connection (100%).", job.pk],
        )
    with scopes_disabled():
        error = RouterAdoption.objects.get(pk=job.pk).error
    assert error == literal_text("Core North refused the connection (100%).")
    with translation.override("ru"):
        assert str(error) == "Core North refused the connection (100%)."
