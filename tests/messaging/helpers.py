"""Direct computations from the message records, to check the rollup-based reports against."""

from collections import defaultdict
from decimal import Decimal

from django_scopes import scopes_disabled

from messaging.models import Message
from messaging.numbers import country_name

DIMS = {
    "day": lambda m: (m.day,),
    "operator": lambda m: (country_name(m.country), m.operator or "Unknown operator"),
    "sender": lambda m: (m.sender,),
    "viber_sender": lambda m: (m.sender,),
    "country": lambda m: (country_name(m.country),),
}
CHANNEL = {"sender": "sms", "viber_sender": "viber"}


def direct_report(client, report: str, start, end, channel: str = "") -> dict:
    """{group key: {sent, delivered, pending, price}} straight from the records."""
    channel = CHANNEL.get(report, channel)
    figures = defaultdict(lambda: {"sent": 0, "delivered": 0, "pending": 0, "price": Decimal(0)})
    with scopes_disabled():
        messages = Message.objects.filter(client=client, day__gte=start, day__lte=end)
        if channel:
            messages = messages.filter(channel=channel)
        for m in messages:
            row = figures[DIMS[report](m)]
            if m.status == "rejected":
                continue
            row["sent"] += m.parts
            row["price"] += m.price
            if m.status == "delivered":
                row["delivered"] += m.parts
            if m.status == "sent":
                row["pending"] += m.parts
    return dict(figures)


def report_as_dict(report) -> dict:
    out = {}
    for row in report.rows:
        if report.kind.key == "operator":
            key = tuple(row.label.split(" - ", 1))
        elif report.kind.key == "day":
            key = (row.values["day"],)
        else:
            key = (row.label,)
        out[key] = {
            "sent": row.sent,
            "delivered": row.delivered,
            "pending": row.pending,
            "price": row.price,
        }
    return out
