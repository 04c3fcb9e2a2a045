"""Every page of the portal, read in Russian: no English left but data and kept names.

The pages are the URL patterns the bad-input walk enumerates, with its world (a tenant with
every module on and one of each thing), opened by the owner with a Russian browser. What the
page may show in Latin letters is the data itself (every text value of the tenant's rows and its
operators) and the short list in tests/i18n/visible_text.py.
"""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.test import Client as HttpClient
from django_scopes import scopes_disabled

from tests.i18n.visible_text import data_words, english_words
from tests.security import walker
from tests.security.test_bad_input import PUBLIC, World

ROUTES = walker.portal_routes()
TEXT_FIELDS = (models.CharField, models.TextField)


def tenant_data_words(tenant) -> set[str]:
    """The Latin words of every text value the tenant's pages may show as data."""
    texts = [tenant.name, tenant.slug]
    with scopes_disabled():
        for model in apps.get_models():
            names = [f.name for f in model._meta.concrete_fields if isinstance(f, TEXT_FIELDS)]
            if not names or not any(f.name == "tenant" for f in model._meta.concrete_fields):
                continue
            for row in model._default_manager.filter(tenant=tenant).values_list(*names):
                texts.extend(str(value) for value in row if value)
        for user in get_user_model().objects.all():
            texts += [user.username, user.first_name, user.last_name, user.email]
    return data_words(*texts)


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_every_page_reads_in_russian(route, tmp_path, settings):
    world = World(tmp_path, settings)
    http = HttpClient(HTTP_ACCEPT_LANGUAGE="ru")
    if route.name not in PUBLIC:
        http.force_login(world.owner.user)
    url = route.url({a: world.argument(route, a) for a in route.arguments})
    page = http.get(url)
    assert page.status_code in (200, 302, 405), f"{url} answered {page.status_code}"
    if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
        return  # a redirect or an action: its page is walked under its own pattern
    english = english_words(page.content.decode(), tenant_data_words(world.tenant))
    assert english == [], f"{url} shows English: {english[:40]}"
