"""Which language a page, an e-mail or a job speaks (README, "Languages").

- A page: the operator's own choice (tenancy.OperatorProfile), else the tenant's language
  (Tenant.language), else the browser's (Accept-Language or Django's language cookie, which
  LocaleMiddleware has already activated). See tenancy.middleware.LanguageMiddleware.
- The API: Accept-Language, else the tenant's language, else English.
- An e-mail to a client: the client's language, else the tenant's, else English
  (`in_language_of`), in the tenant's formats.
- Background work (an export, an import, a bulk action): the language of the operator who
  started it, stored on the job row when it is created (`StartedInLanguage`) and active while
  a worker runs it (core.tasks.tenant_task).
"""

import functools
import hashlib
from contextlib import contextmanager
from pathlib import Path

import django
from django import forms
from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .formatting import tenant_formatting

DEFAULT_LANGUAGE = "en"


def offered_languages() -> list[tuple[str, str]]:
    """(code, the language's name in itself), e.g. ("ru", "Русский")."""
    return list(settings.LANGUAGES)


def offered(code: str | None) -> str:
    """`code` if it is one of the portal's languages (a regional variant counts: "ru-RU"),
    else ""."""
    if not code:
        return ""
    codes = {lang for lang, _name in settings.LANGUAGES}
    code = code.lower()
    if code in codes:
        return code
    base = code.split("-")[0]
    return base if base in codes else ""


def language_choices(blank_label=None) -> list[tuple[str, str]]:
    """The portal's languages, each named in itself (English, Русский: a reader finds their
    own), after a blank choice when `blank_label` names one."""
    blank = [("", blank_label)] if blank_label is not None else []
    return blank + offered_languages()


class LanguageSelect(forms.Select):
    """A choice of languages whose options carry their own language (`lang="en"` on
    "English"), so that a screen reader, and a reader of a Russian page, read each name as
    the language it is written in."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value:
            option["attrs"]["lang"] = value
        return option


def active_language() -> str:
    """The language active now (a request's, a task's), one of the portal's: the default of
    a job row's `language`, so that a job started in a request remembers it."""
    return offered(translation.get_language()) or DEFAULT_LANGUAGE


def tenant_language(tenant) -> str:
    """The tenant's language, else English."""
    return offered(getattr(tenant, "language", "")) or DEFAULT_LANGUAGE


@contextmanager
def in_language(language: str | None, tenant=None):
    """Within: `language` (else the tenant's, else English) and the tenant's formats, for work
    that no request carries (an e-mail, a task)."""
    code = offered(language) or tenant_language(tenant)
    with translation.override(code):
        if tenant is None:
            yield
        else:
            with tenant_formatting(tenant):
                yield


def in_language_of(client, tenant=None):
    """Within: the language a client reads its e-mails in (the client's, else its tenant's,
    else English) and its tenant's formats. Every notice to a client is built inside it
    (`tenant`: the client's, when the caller has it, to spare a query)."""
    return in_language(getattr(client, "language", ""), tenant or client.tenant)


def language_remembered(response, language: str):
    """Django's language cookie, so that the login page after a logout stays in the operator's
    language (LocaleMiddleware reads it); no language chosen: the browser's again."""
    if not language:
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return response
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


def language_field(**kwargs) -> models.CharField:
    """A language column: one of settings.LANGUAGES, blank when not chosen."""
    options = {
        "max_length": 10,
        "choices": settings.LANGUAGES,
        "blank": True,
        "default": "",
        # Blank in the database too: rows written by code that predates the column (a rolling
        # deploy, a data migration's historical models) are valid.
        "db_default": "",
        "verbose_name": _("language"),
    }
    options.update(kwargs)
    return models.CharField(**options)


class StartedInLanguage(models.Model):
    """Mixin of the rows of work a worker does for an operator (an export, an import, a bulk
    action): the language of whoever started it, taken from the active language when the row
    is created, so that headers, sheet names and reasons come out in it although the worker
    runs without a request (core.tasks.tenant_task activates it)."""

    language = language_field(
        default=active_language,
        help_text=_("The language of the operator who started it: the work is written in it."),
    )

    class Meta:
        abstract = True


@functools.cache
def javascript_catalogue_version() -> str:
    """A short digest of the scripts' compiled catalogues: the catalogue's address carries it,
    so a browser keeps the file until a new translation ships."""
    digest = hashlib.sha256(django.get_version().encode())
    for folder in settings.LOCALE_PATHS:
        for compiled in sorted(Path(folder).glob("*/LC_MESSAGES/djangojs.mo")):
            digest.update(compiled.read_bytes())
    return digest.hexdigest()[:12]
