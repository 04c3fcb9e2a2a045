"""A client's money over the JSON API: the account, its ledger by period, top-up and set
credit, through the Finance tab's forms, selectors and services.

The Idempotency-Key of a top-up also becomes its ledger key (hashed with the caller, since a
ledger key is unique per tenant): even a retry that missed the API's own record posts once.
Without the header every top-up is new, as a form submitted twice with two tokens.

An entry's purpose is stored as its message (billing/models.py) and answered as text in the
caller's language (Accept-Language, else the tenant's) and the tenant's formats, as the Finance
tab shows it to an operator of that language.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal

from ninja import Field, Query, Router, Schema, Status

from clients.api import ClientNumber, client_or_404
from core.api import (
    Answer,
    Number,
    SortKey,
    check_sort,
    chosen_fields,
    form_problem,
    page_body,
)
from exports.api import ExportJobOut, export_job_out
from tenancy.api import api_actor, api_operation, idempotency_digest
from tenancy.roles import Capability

from .exports import LEDGER_SORTS, ledger_export_start
from .forms import CreditLimitForm, PeriodForm, TopUpForm
from .models import EntryKind
from .selectors import account_or_empty, ledger_entries_for_period
from .services import account_for_client, account_set_credit_limit, account_top_up

router = Router()

PAGE_DEFAULT = 50
PAGE_MAX = 100
ENTRY_FIELDS = ("id", "created_at", "amount", "kind", "purpose", "comment", "balance_after")
NEWEST_FIRST = (SortKey("created_at", True), SortKey("id", True))


class AccountOut(Answer):
    balance: Decimal
    credit_limit: Decimal
    available: Decimal = Field(description="Balance plus credit limit.")
    currency: str


class EntryOut(Answer):
    """A ledger entry; with `?fields=` only the fields asked for are present."""

    id: int | None = None
    created_at: datetime | None = None
    amount: Decimal | None = Field(None, description="Signed: positive adds to the balance.")
    kind: EntryKind | None = None
    purpose: str | None = Field(None, description="In the language of the answer.")
    comment: str | None = None
    balance_after: Decimal | None = None


class EntryPage(Answer):
    items: list[EntryOut]
    next: str | None = Field(description="The cursor of the next page; null on the last page.")


class LedgerQuery(Schema):
    start: date | None = Field(None, description="First day (tenant's time zone); 30 days ago.")
    end: date | None = Field(None, description="Last day, included; today by default.")
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)
    fields: str | None = Field(None, max_length=1000)


class TopUpIn(Schema):
    amount: Number = Field(description="Greater than zero, at most 2 decimals.")
    comment: str = Field("", max_length=10000)


class TopUpOut(Answer):
    entry: EntryOut
    account: AccountOut


class CreditIn(Schema):
    credit_limit: Number = Field(description="Zero or more, at most 2 decimals.")
    notify: bool = Field(False, description="E-mail the client about the new limit.")


class CreditOut(Answer):
    changed: bool = Field(description="False when the limit already had this value.")
    account: AccountOut


def account_out(account, tenant) -> AccountOut:
    return AccountOut(
        balance=account.balance,
        credit_limit=account.credit_limit,
        available=account.available,
        currency=tenant.currency,
    )


def entry_values(entry, fields=ENTRY_FIELDS) -> dict:
    """The entry's fields asked for, its purpose rendered in the active language."""
    values = {name: getattr(entry, name) for name in fields}
    if "purpose" in values:
        values["purpose"] = str(values["purpose"])
    return values


def entry_out(entry, fields=ENTRY_FIELDS) -> EntryOut:
    return EntryOut(**entry_values(entry, fields))


def ledger_key(request, action: str) -> str | None:
    """The ledger's idempotency key of this request (at most 100 characters)."""
    digest = idempotency_digest(request)
    return None if digest is None else f"api-{action}:{digest}"


@api_operation(router, "GET", "{number}/account/", capability=Capability.VIEW, response=AccountOut)
def client_account(request, number: ClientNumber):
    """Balance, credit limit and available funds."""
    client = client_or_404(request, number, "account")
    return account_out(account_or_empty(client=client), request.tenant)


@api_operation(
    router,
    "GET",
    "{number}/ledger/",
    capability=Capability.VIEW,
    response=EntryPage,
    exclude_unset=True,
)
def client_ledger(request, number: ClientNumber, query: Query[LedgerQuery]):
    """The transactions of a period, newest first, with the balance after each."""
    client = client_or_404(request, number, "account")
    period_form = PeriodForm(request.GET, tenant=request.tenant)
    if period_form.is_bound and not period_form.is_valid():
        raise form_problem(period_form)
    fields = chosen_fields(query.fields, ENTRY_FIELDS)
    account = account_or_empty(client=client)
    if account.pk is None:
        return {"items": [], "next": None}
    entries = ledger_entries_for_period(account=account, period=period_form.period)
    return page_body(
        entries,
        query,
        keys=NEWEST_FIRST,
        sort="-created_at",
        row=lambda entry: entry_values(entry, fields),
    )


@api_operation(
    router,
    "POST",
    "{number}/top-up/",
    capability=Capability.TOP_UP,
    idempotent=True,
    response={201: TopUpOut},
)
def client_top_up(request, number: ClientNumber, payload: TopUpIn):
    """Money in (a payment received): one ledger entry; a financial hold is lifted."""
    client = client_or_404(request, number, "account")
    form = TopUpForm(
        {
            "topup-amount": str(payload.amount),
            "topup-comment": payload.comment,
            "topup-token": str(uuid.uuid4()),
        }
    )
    if not form.is_valid():
        raise form_problem(form)
    account = account_for_client(client=client)
    entry = account_top_up(
        account=account,
        amount=form.cleaned_data["amount"],
        comment=form.cleaned_data["comment"],
        actor=api_actor(request),
        idempotency_key=ledger_key(request, "top-up"),
    )
    account.refresh_from_db()  # the balance the posting left
    return Status(
        201, TopUpOut(entry=entry_out(entry), account=account_out(account, request.tenant))
    )


@api_operation(
    router,
    "POST",
    "{number}/credit-limit/",
    capability=Capability.MANAGE_CREDIT,
    idempotent=True,
    response={200: CreditOut},
)
def client_set_credit(request, number: ClientNumber, payload: CreditIn):
    """Set how far below zero the balance may go; the same limit again changes nothing."""
    client = client_or_404(request, number, "account")
    stored = account_or_empty(client=client)
    form = CreditLimitForm(
        {
            "credit-amount": str(payload.credit_limit),
            "credit-notify": "on" if payload.notify else "",
            "credit-token": str(uuid.uuid4()),
        },
        initial={"amount": stored.credit_limit},
    )
    if not form.is_valid():
        raise form_problem(form, {"amount": "credit_limit"})
    account = account_for_client(client=client)
    change = account_set_credit_limit(
        account=account,
        credit_limit=form.cleaned_data["amount"],
        notify=form.cleaned_data["notify"],
        actor=api_actor(request),
        idempotency_key=ledger_key(request, "credit"),
    )
    account.refresh_from_db()  # the limit the change left
    return Status(
        200, CreditOut(changed=change is not None, account=account_out(account, request.tenant))
    )


class LedgerExportIn(Schema):
    start: str | None = Field(None, max_length=100, description="YYYY-MM-DD; 30 days ago.")
    end: str | None = Field(None, max_length=100, description="YYYY-MM-DD; today.")
    sort: str = Field("-created_at", max_length=20, description="created_at or -created_at.")


@api_operation(
    router,
    "POST",
    "{number}/ledger/export/",
    capability=Capability.EXPORT,
    idempotent=True,
    response={202: ExportJobOut},
)
def client_ledger_export(request, number: ClientNumber, payload: LedgerExportIn):
    """Start the .xlsx of a period's transactions; follow the job to download it."""
    client = client_or_404(request, number, "account")
    period_form = PeriodForm(payload.model_dump(exclude={"sort"}), tenant=request.tenant)
    if period_form.is_bound and not period_form.is_valid():
        raise form_problem(period_form)
    check_sort(payload.sort, LEDGER_SORTS)
    job = ledger_export_start(
        client=client,
        period=period_form.period,
        sort=payload.sort,
        actor=api_actor(request),
        api_token=request.api_token,
    )
    return Status(202, export_job_out(job))
