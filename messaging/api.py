"""Message traffic over the JSON API: a gateway pushes batches of message records and of
delivery reports. Both go through the ingestion services that `manage.py import_messages`
calls, so traffic over HTTP gives the statistics and daily charges that imported traffic
gives; each item is answered (accepted, duplicate, refused with its reason; a report can also
be unknown or unchanged).

A record's own `key` (the gateway's message id) is its idempotency: a batch sent again
answers "duplicate" for every record and changes nothing.
"""

from typing import Any

from ninja import Field, Router, Schema

from core.api import Answer
from tenancy.api import api_operation
from tenancy.modules import MESSAGING
from tenancy.roles import Capability

from .services import messages_apply_reports, messages_ingest

router = Router()

BATCH_MAX = 1000
MODULES = frozenset({MESSAGING})
Value = str | int | float | None


class MessageRecord(Schema):
    """One message, with the fields `import_messages` reads."""

    key: Value = Field(description="The gateway's id of the message; unique per tenant.")
    client: Value = Field(description="The client's ID (its number).")
    channel: Value = Field(None, description="sms (default) or viber.")
    sender: Value = None
    recipient: Value = None
    text: Value = Field(None, description="Counted into parts, not stored.")
    parts: Value = None
    status: Value = Field(None, description="sent (default), delivered, failed, ...")
    price: Value = Field(None, description="Default: the client's SMS price × parts.")
    sent_at: Value = Field(None, description="ISO 8601; without offset, the tenant's time.")
    delivered_at: Value = None
    operator: Value = None
    mcc_mnc: Value = None


class DeliveryReport(Schema):
    key: Value
    status: Value = Field(description="A final status: delivered, failed, expired, rejected.")
    at: Value = None
    operator: Value = None
    mcc_mnc: Value = None


class MessageBatch(Schema):
    records: list[MessageRecord] = Field(max_length=BATCH_MAX)


class ReportBatch(Schema):
    reports: list[DeliveryReport] = Field(max_length=BATCH_MAX)


class ItemAnswer(Answer):
    index: int = Field(description="The item's position in the batch, from 1.")
    key: str
    state: str = Field(description="accepted, duplicate, refused, unknown or unchanged.")
    reason: str = ""


class BatchAnswer(Answer):
    received: int
    accepted: int
    duplicates: int
    refused: int
    items: list[ItemAnswer]


class ReportAnswer(Answer):
    received: int
    applied: int
    unchanged: int
    unknown: int
    refused: int
    items: list[ItemAnswer]


def plain(items: list[Schema]) -> list[dict[str, Any]]:
    return [item.model_dump() for item in items]


def answers(outcomes) -> list[ItemAnswer]:
    return [ItemAnswer(index=o.index, key=o.key, state=o.state, reason=o.reason) for o in outcomes]


@api_operation(
    router, "POST", "", capability=Capability.INGEST_MESSAGES, modules=MODULES, response=BatchAnswer
)
def messages_post(request, payload: MessageBatch):
    """Store up to 1,000 message records; each is answered."""
    result = messages_ingest(
        tenant=request.tenant, records=plain(payload.records), answer_items=True
    )
    return BatchAnswer(
        received=result.received,
        accepted=result.created,
        duplicates=result.duplicates,
        refused=result.failed,
        items=answers(result.items),
    )


@api_operation(
    router,
    "POST",
    "reports/",
    capability=Capability.INGEST_MESSAGES,
    modules=MODULES,
    response=ReportAnswer,
)
def reports_post(request, payload: ReportBatch):
    """Apply up to 1,000 delivery reports; each is answered."""
    result = messages_apply_reports(
        tenant=request.tenant, reports=plain(payload.reports), answer_items=True
    )
    return ReportAnswer(
        received=result.received,
        applied=result.applied,
        unchanged=result.unchanged,
        unknown=result.unknown,
        refused=result.failed,
        items=answers(result.items),
    )
