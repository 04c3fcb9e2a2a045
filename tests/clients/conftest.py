"""Fixtures of the client list tests."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

LIST_URL = "/clients/"


@pytest.fixture
def list_url():
    return reverse("clients:client_list")


@pytest.fixture
def htmx_get(client, list_url):
    """GET the list as HTMX does when it refreshes the table region."""

    def get(params=None, url=None):
        return client.get(
            url or list_url, params or {}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table-region"
        )

    return get


@pytest.fixture
def days_ago():
    now = timezone.now()
    return lambda n: now - timedelta(days=n)
