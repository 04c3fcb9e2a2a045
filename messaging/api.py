"""Messaging over the JSON API: message traffic, a client's sender IDs (the Names tab) and its
statistics (the Statistics tab), with the Statistics export.

Sender IDs go through the Names tab's form and services: added with the questionnaire
(purpose, sample text, company documents) as Pending; edited (the fields sent, through the
same form and `sender_id_update`: a new name or channel needs a new approval); approved,
rejected (with a reason) or blocked by MANAGE_CLIENTS, as in the portal, the same
transitions allowed. Statistics are one
grouping (`report`: day, operator, sender, viber_sender, country) over a period of the
tenant's days, from the daily rollups through the tab's selector and period form; the portal
has statistics per client only, and so has the API. The export takes the pop-up's choices and
answers the export job (see /exports/{job_id}/).

Message traffic: a gateway pushes batches of message records and of
delivery reports. Both go through the ingestion services that `manage.py import_messages`
calls, so traffic over HTTP gives the statistics and daily charges that imported traffic
gives; each item is answered (accepted, duplicate, refused with its reason; a report can also
be unknown or unchanged).

A record's own `key` (the gateway's message id) is its idempotency: a batch sent again
answers "duplicate" for every record and changes nothing.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import BaseModel

from clients.api import ClientNumber, client_or_404
from core.api import (
    Answer,
    Problem,
    Scalar,
    SortKey,
    chosen_fields,
    form_problem,
    sorted_page,
)
from exports.api import ExportJobOut, export_job_out
from tenancy.api import api_actor, api_operation
from tenancy.modules import MESSAGING
from tenancy.roles import Capability

from .exports import statistics_export_start
from .forms import (
    EXPORT_COLUMNS,
    SenderDecisionForm,
    SenderIdForm,
    StatisticsExportForm,
    StatisticsPeriodForm,
)
from .models import MessageChannel, SenderId, SenderStatus
from .selectors import DEFAULT_REPORT, REPORTS, ReportRow, statistics_report
from .services import (
    messages_apply_reports,
    messages_ingest,
    sender_id_create,
    sender_id_decide,
    sender_id_update,
)

router = Router()
clients_router = Router()  # mounted under /clients/: a client's names and statistics

BATCH_MAX = 1000
MODULES = frozenset({MESSAGING})
Value = Scalar


class MessageRecord(BaseModel):
    """One message, with the fields `import_messages` reads. A plain pydantic model, as is a
    report: django-ninja's Schema wraps each item's validation in a step of its own (for
    reading Django objects), 17 ms of CPU a batch of 1,000 against 1.4 ms."""

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


class DeliveryReport(BaseModel):
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


def plain(batch: Schema, name: str) -> list[dict[str, Any]]:
    """The batch's items as dicts, dumped at once."""
    return batch.model_dump(include={name})[name]


def answers(outcomes) -> list[dict[str, Any]]:
    """Each item's outcome (index, key, state, reason) as a dict, which the answer's model
    validates in one pass (a model built per item cost twice as much)."""
    return [vars(outcome) for outcome in outcomes]


@api_operation(
    router, "POST", "", capability=Capability.INGEST_MESSAGES, modules=MODULES, response=BatchAnswer
)
def messages_post(request, payload: MessageBatch):
    """Store up to 1,000 message records; each is answered."""
    result = messages_ingest(
        tenant=request.tenant, records=plain(payload, "records"), answer_items=True
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
        tenant=request.tenant, reports=plain(payload, "reports"), answer_items=True
    )
    return ReportAnswer(
        received=result.received,
        applied=result.applied,
        unchanged=result.unchanged,
        unknown=result.unknown,
        refused=result.failed,
        items=answers(result.items),
    )


# -- sender IDs (the Names tab) --------------------------------------------------------------
SenderNumber = Annotated[int, Path(ge=1, le=2**63 - 1, description="The sender ID's id.")]
SENDER_FIELDS = (
    "id",
    "name",
    "channel",
    "status",
    "status_reason",
    "purpose",
    "sample_text",
    "documents_note",
    "questionnaire_complete",
    "decided_at",
    "created_at",
)
SENDER_SORTS = {
    "name": (SortKey("name"), SortKey("id")),
    "-name": (SortKey("name", True), SortKey("id", True)),
    "created_at": (SortKey("created_at"), SortKey("id")),
    "-created_at": (SortKey("created_at", True), SortKey("id", True)),
}
PAGE_DEFAULT = 20
PAGE_MAX = 100


class SenderIdOut(Answer):
    """A sender ID; with `?fields=` only the fields asked for are present."""

    id: int | None = None
    name: str | None = None
    channel: MessageChannel | None = None
    status: SenderStatus | None = None
    status_reason: str | None = Field(None, description="Why it was rejected or blocked.")
    purpose: str | None = None
    sample_text: str | None = None
    documents_note: str | None = Field(None, description="The company documents provided.")
    questionnaire_complete: bool | None = None
    decided_at: datetime | None = None
    created_at: datetime | None = None


class SenderIdPage(Answer):
    items: list[SenderIdOut]
    next: str | None = Field(description="The cursor of the next page; null on the last page.")


class SenderIdListQuery(Schema):
    sort: str | None = Field(None, max_length=40, description=", ".join(SENDER_SORTS))
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)
    fields: str | None = Field(None, max_length=1000)


class SenderIdIn(Schema):
    """The Names tab's form: the name and the questionnaire."""

    name: str = Field(
        max_length=1000, description="Up to 11 Latin letters and digits, or 15 digits."
    )
    channel: str = Field(MessageChannel.SMS, max_length=100, description="sms or viber.")
    purpose: str = Field("", max_length=10000, description="Purpose of the messages.")
    sample_text: str = Field("", max_length=10000)
    documents_note: str = Field("", max_length=10000, description="Company documents provided.")


class SenderIdPatch(Schema):
    """The Names tab's edit form: the fields to change; those not sent keep their values."""

    name: str | None = Field(None, max_length=1000, description="A new name needs approval.")
    channel: str | None = Field(None, max_length=100, description="sms or viber.")
    purpose: str | None = Field(None, max_length=10000)
    sample_text: str | None = Field(None, max_length=10000)
    documents_note: str | None = Field(None, max_length=10000)


class SenderDecisionIn(Schema):
    status: str = Field(max_length=100, description="approved, rejected or blocked.")
    reason: str = Field("", max_length=10000, description="Required for a rejection.")


def sender_out(sender: SenderId, fields=SENDER_FIELDS) -> dict:
    return {name: getattr(sender, name) for name in fields}


@api_operation(
    clients_router,
    "GET",
    "{number}/names/",
    capability=Capability.VIEW,
    modules=MODULES,
    response=SenderIdPage,
    exclude_unset=True,
)
def sender_id_list(request, number: ClientNumber, query: Query[SenderIdListQuery]):
    """The client's sender IDs with their status and questionnaire, as the Names tab."""
    client = client_or_404(request, number)
    fields = chosen_fields(query.fields, SENDER_FIELDS)
    senders = SenderId.objects.for_tenant(request.tenant).filter(client=client)
    return sorted_page(
        senders, query, sorts=SENDER_SORTS, default="name", row=lambda row: sender_out(row, fields)
    )


@api_operation(
    clients_router,
    "POST",
    "{number}/names/",
    capability=Capability.MANAGE_CLIENTS,
    modules=MODULES,
    idempotent=True,
    response={201: SenderIdOut},
)
def sender_id_add(request, number: ClientNumber, payload: SenderIdIn):
    """Add a sender ID with its questionnaire; it awaits approval (Pending)."""
    client = client_or_404(request, number)
    form = SenderIdForm(payload.model_dump(), client=client)
    if not form.is_valid():
        raise form_problem(form)
    fields = {name: form.cleaned_data[name] for name in SenderIdForm.Meta.fields}
    sender = sender_id_create(client=client, actor=api_actor(request), **fields)
    return Status(201, SenderIdOut(**sender_out(sender)))


def _client_sender(request, client, sender_id: int) -> SenderId:
    return get_object_or_404(
        SenderId.objects.for_tenant(request.tenant).select_related("tenant"),
        client=client,
        pk=sender_id,
    )


@api_operation(
    clients_router,
    "PATCH",
    "{number}/names/{sender_id}/",
    capability=Capability.MANAGE_CLIENTS,
    modules=MODULES,
    response=SenderIdOut,
)
def sender_id_change(
    request, number: ClientNumber, sender_id: SenderNumber, payload: SenderIdPatch
):
    """Change the name or the questionnaire. A new name or channel puts an approved or
    rejected sender ID back to Pending; a blocked one stays blocked."""
    client = client_or_404(request, number)
    instance = _client_sender(request, client, sender_id)  # the form writes onto it
    data = {name: getattr(instance, name) for name in SenderIdForm.Meta.fields}
    sent = payload.model_dump(exclude_unset=True)
    data.update({name: value for name, value in sent.items() if value is not None})
    form = SenderIdForm(data, instance=instance, client=client)
    if not form.is_valid():
        raise form_problem(form)
    fields = {name: form.cleaned_data[name] for name in SenderIdForm.Meta.fields}
    sender = sender_id_update(
        sender=_client_sender(request, client, sender_id), actor=api_actor(request), **fields
    )
    return SenderIdOut(**sender_out(sender))


@api_operation(
    clients_router,
    "POST",
    "{number}/names/{sender_id}/decision/",
    capability=Capability.MANAGE_CLIENTS,
    modules=MODULES,
    response=SenderIdOut,
)
def sender_id_decision(
    request, number: ClientNumber, sender_id: SenderNumber, payload: SenderDecisionIn
):
    """Approve, reject (with a reason) or block a sender ID."""
    client = client_or_404(request, number)
    sender = _client_sender(request, client, sender_id)
    form = SenderDecisionForm(payload.model_dump())
    if not form.is_valid():
        raise form_problem(form)
    sender = sender_id_decide(
        sender=sender,
        status=form.cleaned_data["status"],
        reason=form.cleaned_data["reason"],
        actor=api_actor(request),
    )
    return SenderIdOut(**sender_out(sender))


# -- statistics (the Statistics tab) ---------------------------------------------------------
class StatisticsQuery(Schema):
    report: str = Field(DEFAULT_REPORT, max_length=40, description=", ".join(REPORTS))
    start: date | None = Field(None, description="First day (tenant's days); 30 days ago.")
    end: date | None = Field(None, description="Last day, included; today by default.")
    channel: MessageChannel | None = Field(None, description="Both channels unless named.")


class StatisticsRow(Answer):
    label: str = Field(description="The group as the tab shows it (e.g. Germany - Telekom).")
    day: date | None = None
    country: str | None = Field(None, description="ISO code.")
    operator: str | None = None
    sender: str | None = None
    flag: str = Field("", description="E.g. Not approved (pending) for a sender ID.")
    messages: int
    sent: int = Field(description="Parts sent.")
    delivered: int
    pending: int = Field(description="Parts awaiting a delivery report.")
    failed: int
    rejected: int
    price: Decimal
    efficiency: float | None = Field(description="Delivered of the parts with a final report, %.")


class StatisticsOut(Answer):
    report: str
    label: str
    start: date
    end: date
    channel: str = Field(description="sms, viber, or empty for both.")
    currency: str
    rows: list[StatisticsRow]
    totals: StatisticsRow


def statistics_row(row: ReportRow) -> StatisticsRow:
    return StatisticsRow(
        label=row.label,
        **row.values,
        flag=row.flag,
        messages=row.messages,
        sent=row.sent,
        delivered=row.delivered,
        pending=row.pending,
        failed=row.failed,
        rejected=row.rejected,
        price=row.price,
        efficiency=row.efficiency,
    )


def _refused(field: str, message: str) -> Problem:
    return Problem(
        422,
        _("Invalid request"),
        _("Some values were refused."),
        [{"field": field, "message": message}],
    )


@api_operation(
    clients_router,
    "GET",
    "{number}/statistics/",
    capability=Capability.VIEW,
    modules=MODULES,
    response=StatisticsOut,
)
def client_statistics(request, number: ClientNumber, query: Query[StatisticsQuery]):
    """One grouping of the client's traffic over a period, with its totals."""
    client = client_or_404(request, number)
    if query.report not in REPORTS:
        raise _refused("report", _("Not one of %(choices)s.") % {"choices": ", ".join(REPORTS)})
    form = StatisticsPeriodForm(request.GET, tenant=request.tenant)
    if form.is_bound and not form.is_valid():
        raise form_problem(form)
    report = statistics_report(
        client=client, report=query.report, period=form.period, channel=form.chosen_channel
    )
    return StatisticsOut(
        report=report.kind.key,
        label=str(report.kind.label),
        start=report.period.start,
        end=report.period.end,
        channel=report.channel,
        currency=request.tenant.currency,
        rows=[statistics_row(row) for row in report.rows],
        totals=statistics_row(report.totals),
    )


class StatisticsExportIn(Schema):
    """The export pop-up: the period, the groupings (one sheet each) and the columns."""

    start: str = Field(max_length=100, description="YYYY-MM-DD.")
    end: str = Field(max_length=100, description="YYYY-MM-DD.")
    channel: str = Field("", max_length=100, description="sms, viber, or empty for both.")
    reports: list[str] = Field([DEFAULT_REPORT], max_length=10, description=", ".join(REPORTS))
    columns: list[str] = Field(
        ["sent", "delivered", "pending", "efficiency", "price"],
        max_length=20,
        description=", ".join(key for key, _label in EXPORT_COLUMNS),
    )


@api_operation(
    clients_router,
    "POST",
    "{number}/statistics/export/",
    capability=Capability.EXPORT,
    modules=MODULES,
    idempotent=True,
    response={202: ExportJobOut},
)
def client_statistics_export(request, number: ClientNumber, payload: StatisticsExportIn):
    """Start the .xlsx export of the chosen groupings; follow the job to download it."""
    client = client_or_404(request, number)
    form = StatisticsExportForm(payload.model_dump())
    if not form.is_valid():
        raise form_problem(form)
    job = statistics_export_start(
        client=client,
        chosen=form.cleaned_data,
        actor=api_actor(request),
        api_token=request.api_token,
    )
    return Status(202, export_job_out(job))
