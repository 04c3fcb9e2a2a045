"""Demo traffic for the messaging tenant: three months of SMS and Viber messages from a few
dozen clients, to recipients in six countries and their operators, from approved, pending and
unregistered sender IDs, with delivery reports (the last two days still partly awaiting them).

Fast on SQLite (a few seconds): recipients are resolved once into a pool, messages are built
directly and written with bulk_create, and the rollups and charges come from the app's own
jobs (`rollups_refresh`, then `messaging_charges_post` once per night of the last two
weeks, dated the night after, as beat would have run it; older days count as billed before the
portal's ledger starts). The first three clients also have traffic but their days are marked
as charged without ledger entries: billing's demo already gave them "SMS sending" entries of
their own over the same months, and a ledger entry cannot be dated before an existing one.

A sender ID is registered after its client joined and decided (by the tenant's manager) a few
days later; a client's traffic starts the day after its sender IDs were registered and
decided, so no message is older than the name it was sent under.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from billing.services import account_for_client, account_top_up
from tenancy.models import Membership
from tenancy.roles import Role

from .models import (
    Message,
    MessageChannel,
    MessageStatus,
    MessagingCharge,
    SenderId,
    SenderStatus,
)
from .numbers import InvalidRecipient, resolve_recipient
from .services import dirty_days_mark, messaging_charges_post, rollups_refresh

DAYS = 90
CHARGED_DAYS = 14
# (country calling code + national prefixes, digits after the prefix, weight)
NUMBER_PLANS = [
    ("+37129", 6, 18),
    ("+37126", 6, 10),
    ("+37125", 6, 8),
    ("+37120", 6, 6),
    ("+3706", 7, 10),
    ("+3725", 7, 8),
    ("+49151", 8, 8),
    ("+49172", 8, 6),
    ("+49176", 8, 5),
    ("+48501", 6, 6),
    ("+48601", 6, 5),
    ("+7916", 7, 5),
    ("+7903", 7, 5),
]
SMS_SENDERS = ["Shop", "Bank", "Delivery", "Clinic", "Taxi", "Promo", "1919", "Info"]
VIBER_SENDERS = ["ShopViber", "BankViber", "Promo"]
PARTS = [1] * 70 + [2] * 20 + [3] * 8 + [4] * 2


def _recipient_pool(rng: random.Random) -> list:
    pool = []
    for prefix, digits, weight in NUMBER_PLANS:
        for _ in range(weight * 4):
            raw = prefix + "".join(rng.choice("0123456789") for _ in range(digits))
            try:
                pool.append(resolve_recipient(raw))
            except InvalidRecipient:
                continue
    return pool


def _registered_at(client, first_day_start: datetime, rng: random.Random) -> datetime:
    """When a sender ID was registered: after the client joined, most before the demo's
    traffic begins."""
    wanted = first_day_start - timedelta(days=rng.randint(5, 120), minutes=rng.randint(0, 1440))
    return max(wanted, client.created_at + timedelta(hours=rng.randint(1, 48)))


def _senders(tenant, client, rng, *, first_day_start, decider) -> tuple[list, list, datetime]:
    """The client's sender IDs, and when its traffic may start (all of them registered and
    decided)."""
    sms = rng.sample(SMS_SENDERS, rng.randint(1, 3))
    viber = rng.sample(VIBER_SENDERS, 1) if rng.random() < 0.5 else []
    rows = []
    named = [(n, MessageChannel.SMS) for n in sms] + [(n, MessageChannel.VIBER) for n in viber]
    for index, (name, channel) in enumerate(named):
        status = SenderStatus.APPROVED if index == 0 else rng.choice(list(SenderStatus.values))
        complete = status == SenderStatus.APPROVED or rng.random() < 0.5
        created = _registered_at(client, first_day_start, rng)
        decided = None
        if status != SenderStatus.PENDING:
            decided = created + timedelta(days=rng.randint(0, 6), hours=rng.randint(1, 20))
        rows.append(
            SenderId(
                tenant=tenant,
                client=client,
                name=name,
                channel=channel,
                status=status,
                status_reason="Trademark letter missing" if status == SenderStatus.REJECTED else "",
                purpose="Order and delivery notifications" if complete else "",
                sample_text=f"{name}: your order 4711 is on its way." if complete else "",
                documents_note="Company register extract, trademark certificate"
                if complete
                else "",
                created_at=created,
                decided_at=decided,
                decided_by=decider if decided else None,
            )
        )
    SenderId.objects.for_tenant(tenant).bulk_create(rows)
    if rng.random() < 0.3:  # sends under a name nobody registered: flagged in the reports
        sms.append("SALE")
    known = [row.decided_at or row.created_at for row in rows]
    return sms, viber, max(known) + timedelta(days=1)


def seed(context: dict, log) -> None:
    tenant = context["tenants"]["sms"]
    clients = context["clients"]["sms"]
    rng = random.Random(8)
    zone = tenant.zone
    now = timezone.now()
    today = timezone.localtime(now, zone).date()
    first_day = today - timedelta(days=DAYS - 1)
    pool = _recipient_pool(rng)
    traffic_clients = clients[:3] + clients[40:60]  # billing's demo charged the first three
    first_day_start = timezone.make_aware(datetime.combine(first_day, time(0, 0)), zone)
    manager = Membership.objects.for_tenant(tenant).filter(role=Role.MANAGER).first()
    messages = []
    for client in traffic_clients:
        sms_senders, viber_senders, traffic_from = _senders(
            tenant,
            client,
            rng,
            first_day_start=first_day_start,
            decider=manager.user if manager else None,
        )
        base = rng.lognormvariate(2.8, 0.7)  # messages a day, 16 on the median
        price = client.sms_price or Decimal("0.0350")
        viber_share = 0.25 if viber_senders else 0.0
        for offset in range(DAYS):
            day = first_day + timedelta(days=offset)
            weekend = day.weekday() >= 5
            count = int(base * (0.45 if weekend else 1.0) * rng.uniform(0.6, 1.4))
            for _ in range(count):
                wall = datetime.combine(day, time(rng.randint(7, 21), rng.randint(0, 59)))
                sent_at = timezone.make_aware(wall, zone)
                if sent_at > now or sent_at < traffic_from:
                    continue
                number = rng.choice(pool)
                viber = rng.random() < viber_share
                parts = 1 if viber else rng.choice(PARTS)
                age = (now - sent_at).total_seconds()
                roll = rng.random()
                if roll < 0.01:
                    status = MessageStatus.REJECTED
                elif age < 2 * 86400 and roll < 0.25:
                    status = MessageStatus.SENT
                elif roll < 0.05:
                    status = MessageStatus.FAILED
                elif roll < 0.07:
                    status = MessageStatus.EXPIRED
                else:
                    status = MessageStatus.DELIVERED
                gateway = rng.random() < 0.3 and number.operator
                delivered_at = (
                    sent_at + timedelta(seconds=rng.randint(2, 600))
                    if status == MessageStatus.DELIVERED
                    else None
                )
                messages.append(
                    Message(
                        tenant=tenant,
                        client=client,
                        key=f"demo-{len(messages) + 1}",
                        channel=MessageChannel.VIBER if viber else MessageChannel.SMS,
                        sender=rng.choice(viber_senders if viber else sms_senders),
                        recipient=number.e164,
                        country=number.country,
                        operator=number.operator,
                        operator_source="gateway" if gateway else number.operator_source,
                        parts=parts,
                        status=status,
                        price=(price * parts).quantize(Decimal("0.0001")),
                        sent_at=sent_at,
                        day=day,
                        delivered_at=delivered_at,
                        status_changed_at=delivered_at,
                    )
                )
    Message.objects.for_tenant(tenant).bulk_create(messages, batch_size=5000)
    dirty_days_mark(tenant=tenant, pairs={(m.client_id, m.day) for m in messages})
    rollups_refresh(tenant=tenant, batch_size=2000)
    # The charge job's own postings, night by night, for the last CHARGED_DAYS days, for the
    # clients whose ledger has nothing after that (other demos post too, and a ledger entry is
    # never dated before an existing one). Every other day counts as billed before (settled,
    # no entry).
    first_charged = today - timedelta(days=CHARGED_DAYS)
    start = timezone.make_aware(datetime.combine(first_charged, time(6, 0)), zone)
    job_charged = []
    for client in clients[40:60]:
        account = account_for_client(client=client)
        if account.last_posted_at is None or account.last_posted_at < start:
            account_top_up(
                account=account,
                amount=Decimal(rng.choice([100, 200, 500])),
                comment="Opening payment",
                at=start,
            )
            job_charged.append(client.pk)
    charges = MessagingCharge.objects.for_tenant(tenant)
    for row in charges.exclude(client_id__in=job_charged, day__gte=first_charged):
        charges.filter(pk=row.pk).update(
            charged_parts=row.due_parts,
            charged_amount=row.due_amount.quantize(Decimal("0.01")),
            settled=True,
        )
    posted = 0
    for offset in range(DAYS - CHARGED_DAYS, DAYS):
        night = timezone.make_aware(
            datetime.combine(first_day + timedelta(days=offset), time(0, 15)), zone
        )
        result = messaging_charges_post(tenant=tenant, now=night, at=night)
        posted += result.charged
    log(
        f"Messaging: {len(messages):,} messages from {len(traffic_clients)} clients over "
        f"{DAYS} days; {posted:,} daily charges posted."
    )
