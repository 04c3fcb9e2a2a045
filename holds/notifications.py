"""The e-mails of holds and expiry: default wording, the tenant's own (NotificationTemplate,
editable in the admin), rendering with Django's template engine, and sending once."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template import Context, Template
from django.utils import timezone

from tenancy.models import Tenant

from .models import Notification, NotificationKind, NotificationTemplate

DEFAULTS = {
    NotificationKind.HOLD_SET: (
        "{{ tenant.name }}: your service is on hold",
        "Dear {{ client.name }},\n\n"
        "your service with {{ tenant.name }} has been put on {{ hold.get_kind_display|lower }}.\n"
        "Reason: {{ hold.reason }}\n\n"
        "{% if hold.kind == 'financial' %}It is lifted as soon as a top-up brings your "
        "available funds back to zero or more.\n\n{% endif %}"
        "Your subscriptions are suspended until the hold is released.\n\n{{ tenant.name }}\n",
    ),
    NotificationKind.EXPIRING: (
        "{{ tenant.name }}: {{ package.name }} ends on {{ subscription.end_date|day }}",
        "Dear {{ client.name }},\n\n"
        "your subscription {{ package.name }} is paid until "
        "{{ subscription.end_date|day }}.\n"
        "{% if subscription.auto_renew %}It renews automatically for {{ package.price }} "
        "{{ currency }} if your available funds allow it on that day."
        "{% else %}Renew it in time to keep the service.{% endif %}\n\n{{ tenant.name }}\n",
    ),
    NotificationKind.EXPIRED: (
        "{{ tenant.name }}: {{ package.name }} has expired",
        "Dear {{ client.name }},\n\n"
        "your subscription {{ package.name }} ended on {{ subscription.end_date|day }}"
        "{% if subscription.auto_renew %} and could not be renewed: your available funds did not "
        "cover {{ package.price }} {{ currency }}{% endif %}.\n\n{{ tenant.name }}\n",
    ),
}


def notification_templates(tenant: Tenant) -> dict[str, tuple[str, str]]:
    """Subject and body of each kind: the tenant's own where it has one (one query for all
    kinds), else the default."""
    texts = dict(DEFAULTS)
    texts.update(
        (kind, (subject, body))
        for kind, subject, body in NotificationTemplate.objects.for_tenant(tenant).values_list(
            "kind", "subject", "body"
        )
    )
    return texts


def render_notification(notification: Notification, templates) -> tuple[str, str]:
    tenant = notification.tenant
    subject, body = templates[notification.kind]
    subscription = notification.subscription
    context = Context(
        {
            "tenant": tenant,
            "client": notification.client,
            "hold": notification.hold,
            "subscription": subscription,
            "package": subscription.package if subscription else None,
            "currency": tenant.currency,
        },
        autoescape=False,
    )
    subject = " ".join(Template(subject).render(context).split())[:200]
    return subject, Template(body).render(context)


def notifications_send(*, tenant: Tenant, ids) -> int:
    """Send the e-mails owed (each once: locked, SKIP LOCKED, marked sent in the same
    transaction), reading the tenant's templates once, not once per e-mail. Returns how many
    were sent."""
    sent = 0
    with transaction.atomic():
        pending = list(
            Notification.objects.for_tenant(tenant)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("client", "hold", "subscription__package")
            .filter(pk__in=ids, sent_at__isnull=True)
        )
        templates = notification_templates(tenant) if pending else {}
        for notification in pending:
            notification.tenant = tenant
            if not notification.client.email:
                notification.outcome = "no e-mail address"
            else:
                subject, body = render_notification(notification, templates)
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notification.client.email])
                notification.outcome = "sent"
                sent += 1
            notification.sent_at = timezone.now()
        Notification.objects.for_tenant(tenant).bulk_update(pending, ["sent_at", "outcome"])
    return sent
