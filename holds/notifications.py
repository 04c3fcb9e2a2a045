"""The e-mails of holds and expiry: default wording, the tenant's own (NotificationTemplate,
editable in the admin) and rendering with Django's template engine. They are owed through the
outbox without their text (events/outbox.py): the sender renders each just before sending it
(`notices_render`), once after the commit."""

from functools import lru_cache

from django.template import Context, Template
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _

from clients.models import Client
from core.formatting import format_amount
from core.languages import in_language_of
from core.stored_text import stored_gettext
from events.outbox import WHAT_IT_SPEAKS_OF_IS_GONE, email_render_failed
from subscriptions.models import Subscription
from tenancy.models import Tenant

from .models import ClientHold, NotificationKind, NotificationTemplate

EMPTY_WORDING = stored_gettext("Its text could not be made: its wording renders to nothing.")

# The default wording, in English as written here and marked for the catalogue: translated
# into the client's language when an e-mail is rendered (`render_notification`), while the
# admin offers it as it is. `price` is the package's price with the currency.
DEFAULTS = {
    NotificationKind.HOLD_SET: (
        _("{{ tenant.name }}: your service is on hold"),
        _(
            "Dear {{ client.name }},\n\n"
            "your service with {{ tenant.name }} has been put on "
            "{{ hold.get_kind_display|lower }}.\n"
            "Reason: {{ hold.reason }}\n\n"
            "{% if hold.kind == 'financial' %}It is lifted as soon as a top-up brings your "
            "available funds back to zero or more.\n\n{% endif %}"
            "Your subscriptions are suspended until the hold is released.\n\n{{ tenant.name }}\n"
        ),
    ),
    NotificationKind.EXPIRING: (
        _("{{ tenant.name }}: {{ package.name }} ends on {{ subscription.end_date|day }}"),
        _(
            "Dear {{ client.name }},\n\n"
            "your subscription {{ package.name }} is paid until "
            "{{ subscription.end_date|day }}.\n"
            "{% if subscription.auto_renew %}It renews automatically for {{ price }} "
            "if your available funds allow it on that day."
            "{% else %}Renew it in time to keep the service.{% endif %}\n\n{{ tenant.name }}\n"
        ),
    ),
    NotificationKind.EXPIRED: (
        _("{{ tenant.name }}: {{ package.name }} has expired"),
        _(
            "Dear {{ client.name }},\n\n"
            "your subscription {{ package.name }} ended on {{ subscription.end_date|day }}"
            "{% if subscription.auto_renew %} and could not be renewed: your available funds "
            "did not cover {{ price }}{% endif %}.\n\n{{ tenant.name }}\n"
        ),
    ),
}


def notification_templates(tenant: Tenant) -> dict[str, tuple[str, str]]:
    """Subject and body of each kind: the tenant's own where it has one (one query for all
    kinds), else the default (in English: each e-mail translates it into its reader's
    language)."""
    texts = dict(DEFAULTS)
    texts.update(
        (kind, (subject, body))
        for kind, subject, body in NotificationTemplate.objects.for_tenant(tenant).values_list(
            "kind", "subject", "body"
        )
    )
    return texts


def notices_render(tenant: Tenant, emails: list) -> None:
    """The subject and body of these outbox rows (events/outbox.py's renderer of the kinds
    above), each from its client and the hold or subscription of its `context`, read in three
    queries for all. A row whose client or object is gone, or whose wording renders to
    nothing, keeps its empty body and says why."""
    templates = notification_templates(tenant)
    clients = Client.objects.for_tenant(tenant).in_bulk({e.client_id for e in emails})
    holds = ClientHold.objects.for_tenant(tenant).in_bulk(_ids_in(emails, "hold"))
    subscriptions = (
        Subscription.objects.for_tenant(tenant)
        .select_related("package")
        .in_bulk(_ids_in(emails, "subscription"))
    )
    for email in emails:
        client = clients.get(email.client_id)
        hold = holds.get(email.context.get("hold"))
        subscription = subscriptions.get(email.context.get("subscription"))
        if client is None or (hold, subscription) == (None, None):
            email_render_failed(email, WHAT_IT_SPEAKS_OF_IS_GONE)
            continue
        subject, body = render_notification(
            templates,
            email.kind,
            tenant=tenant,
            client=client,
            hold=hold,
            subscription=subscription,
        )
        if not body.strip():
            email_render_failed(email, EMPTY_WORDING)
            continue
        email.subject, email.body = subject, body


def _ids_in(emails, name: str) -> set[int]:
    return {e.context[name] for e in emails if e.context.get(name)}


def render_notification(templates, kind: str, *, tenant, client, **objects):
    """The e-mail below, in the client's language and the tenant's formats."""
    with in_language_of(client, tenant):
        return _render_notification(templates, kind, tenant=tenant, client=client, **objects)


def _render_notification(templates, kind: str, *, tenant, client, hold, subscription):
    """The subject and body of one e-mail, rendered by the sender (events/outbox.py)."""
    subject, body = templates[kind]
    if (subject, body) == DEFAULTS.get(kind):
        subject, body = gettext(subject), gettext(body)
    context = Context(
        {
            "tenant": tenant,
            "client": client,
            "hold": hold,
            "subscription": subscription,
            "package": subscription.package if subscription else None,
            "currency": tenant.currency,
            "price": format_amount(subscription.package.price, currency=tenant.currency)
            if subscription
            else "",
        },
        autoescape=False,
    )
    subject = " ".join(_compiled(subject).render(context).split())[:200]
    return subject, _compiled(body).render(context)


@lru_cache(maxsize=128)
def _compiled(text: str) -> Template:
    """A wording compiled once per process: a bulk hold of 10,000 clients compiled the same
    two templates 10,000 times, two thirds of its time. A compiled template renders any
    number of contexts; the tenant's own wording is a new text, so an edit is seen at once."""
    return Template(text)
