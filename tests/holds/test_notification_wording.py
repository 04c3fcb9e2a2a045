"""A tenant's wording of an e-mail is refused when it is saved if it does not compile, next to
its field, and nothing is saved: the sender would otherwise fail every notice that uses it."""

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from holds.models import NotificationKind, NotificationTemplate
from tests.factories import UserFactory
from tests.helpers import force_login_verified

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "wording"),
    [
        ("body", "Dear {% if client.name %}{{ client.name }}"),
        ("body", "{{ client.name|no_such_filter }}"),
        ("subject", "{% no_such_tag %}"),
    ],
)
def test_the_admin_refuses_a_wording_that_does_not_compile(client, tenant, field, wording):
    force_login_verified(client, UserFactory(is_superuser=True, is_staff=True))
    data = {"tenant": tenant.pk, "kind": NotificationKind.HOLD_SET, "subject": "S", "body": "B"}
    response = client.post(reverse("admin:holds_notificationtemplate_add"), data | {field: wording})
    assert response.status_code == 200  # the admin shows its form again
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert errors[field][0].startswith("This is not a valid template: ")
    with scopes_disabled():
        assert not NotificationTemplate.objects.exists()


def test_the_admin_saves_a_wording_that_compiles(client, tenant):
    force_login_verified(client, UserFactory(is_superuser=True, is_staff=True))
    data = {
        "tenant": tenant.pk,
        "kind": NotificationKind.HOLD_SET,
        "subject": "{{ tenant.name }}: on hold",
        "body": "Dear {{ client.name }},\n{% if hold %}Reason: {{ hold.reason }}{% endif %}",
    }
    response = client.post(reverse("admin:holds_notificationtemplate_add"), data)
    assert response.status_code == 302
    with scopes_disabled():
        assert NotificationTemplate.objects.get().subject == data["subject"]
