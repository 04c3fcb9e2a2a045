"""Assertions that later issues reuse."""

from django.contrib.auth import get_user_model


def assert_other_tenant_gives_404(client, url: str, method: str = "get", data=None) -> None:
    """The logged-in operator asks for another tenant's object: 404, never 403 or 200."""
    response = getattr(client, method)(url, data or {})
    assert response.status_code == 404, f"{method.upper()} {url} gave {response.status_code}"


def assert_role_refused(client, url: str, method: str = "get", data=None) -> None:
    response = getattr(client, method)(url, data or {})
    assert response.status_code == 403, f"{method.upper()} {url} gave {response.status_code}"


def field_errors(response, field: str) -> list[str]:
    """The errors shown next to one form field (the form in the response context)."""
    form = response.context["form"]
    return list(form.errors.get(field, []))


def user_count() -> int:
    return get_user_model().objects.count()


def table_html(response) -> str:
    """Only the table region of a list page (not the navigation, which names the user)."""
    body = response.content.decode()
    start = body.index('id="table-region"')
    return body[start:]
