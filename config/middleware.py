"""The middleware of a browser's session, skipped for a bearer request to the API
(core.api.browser_only): the API's language is LanguageMiddleware's, and neither messages,
HTMX, the login redirect nor the session's last activity concern a token. A 100-client page
spent 5-10% of its server's CPU in them. The session, the user and the second factor's
middleware still run: they are lazy, and the checks after them read `request.user`. CSRF's
stays Django's own, named as `check --deploy` looks for it (the API's views are exempt from it
and check a session's CSRF token themselves)."""

from django.contrib.auth.middleware import LoginRequiredMiddleware as _LoginRequiredMiddleware
from django.contrib.messages.middleware import MessageMiddleware as _MessageMiddleware
from django.middleware.locale import LocaleMiddleware as _LocaleMiddleware
from django_htmx.middleware import HtmxMiddleware as _HtmxMiddleware

from access.middleware import SessionActivityMiddleware as _SessionActivityMiddleware
from core.api import browser_only

LocaleMiddleware = browser_only(_LocaleMiddleware)
SessionActivityMiddleware = browser_only(_SessionActivityMiddleware)
LoginRequiredMiddleware = browser_only(_LoginRequiredMiddleware)
MessageMiddleware = browser_only(_MessageMiddleware)
HtmxMiddleware = browser_only(_HtmxMiddleware)
