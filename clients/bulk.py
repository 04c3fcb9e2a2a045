"""Bulk actions on the client list: a selection of clients, one action, run through the single
action's service in chunks, inline or as a job. The list's views call these; the export of a
selection is handed to exports (the list's own export, with the list's visible columns).

Decisions where the requirements were silent:
- A selection is either the ids of the rows ticked on the page (at most one page: 100) or "all
  N matching this filter", kept as the list's query string. Whoever runs the action evaluates
  it again in the tenant's scope: ticked ids of another tenant (or unknown ones) select nothing,
  and the filter goes through the list's own ClientFilterSet (Deleted clients only when the
  status filter asks for them, as on the page).
- The action runs inline, in the request, when the selection fits on one page of the list (the
  operator's page size); otherwise it is a job with a progress bar (a Celery task under a
  lease). Both record a ClientBulkAction, so that the result page is the same.
- Clients are worked in id order, CHUNK_SIZE to a transaction; each chunk's writes, its counts,
  its refused clients and the last id worked commit together under the job's lease, so that a
  worker killed mid-way is taken over after the last committed chunk and a second run finds
  nothing left: killed and rerun, it gives the result of one run.
- The selection is evaluated chunk by chunk (the next ids after the last one worked): a client
  that stops matching the filter before its chunk (deleted meanwhile) is left out, and the
  total is the count at the start.
- A client the action refuses is listed with its reason (the single action's message); one
  already as wanted (already in that client type) is counted as unchanged and records nothing.
- The creator's right is checked again when the job starts: a role taken away meanwhile fails
  the job with a reason and changes nothing.
"""

import logging
from types import SimpleNamespace

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.leases import (
    Lease,
    LeaseLost,
    WorkStopped,
    lease_finish,
    lease_requeue_or_fail,
    leased_job_run,
)
from core.numbers import query_integer
from core.stored_text import (
    StoredText,
    encode_param,
    stored_gettext,
    stored_text_required,
    validation_message,
)
from tenancy.models import Membership, Tenant
from tenancy.roles import Capability

from .extensions import BULK_ACTIONS, BulkAction, BulkOutcome
from .filters import ClientFilterSet
from .models import BulkActionStatus, Client, ClientBulkAction, ClientGroup
from .services import clients_change_group, clients_delete

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1000
TICKED_MAX = 100  # the largest page of the list
QUERY_MAX = 2000  # characters of a list's query string kept with the selection


# -- the selection ---------------------------------------------------------------------------
def bulk_selection_of(*, ids=None, query: str | None = None) -> dict:
    """The selection as it is kept: ticked ids (ints, at most TICKED_MAX), or a query string."""
    if query is not None:
        return {"query": query[:QUERY_MAX]}
    return {"ids": sorted({int(i) for i in ids or ()})[:TICKED_MAX]}


def bulk_selection_clients(*, tenant: Tenant, selection: dict):
    """The clients a selection names, evaluated now in the tenant's scope (unordered)."""
    clients = Client.objects.for_tenant(tenant)
    if "query" not in selection:
        return clients.filter(pk__in=[int(i) for i in selection.get("ids", ())])
    params = QueryDict(selection["query"])
    request = SimpleNamespace(tenant=tenant, GET=params)  # what the FilterSet reads
    return ClientFilterSet(params or None, queryset=clients, request=request).qs.order_by()


def bulk_action_for(membership, name: str) -> BulkAction:
    """The registered action `name` for this operator; PermissionDenied when the role may not
    run it (as it may not run the single action), LookupError when the tenant has none."""
    if name not in BULK_ACTIONS or not _offered(BULK_ACTIONS[name], membership.tenant):
        raise LookupError(name)
    action = BULK_ACTIONS[name]
    if not membership.allows(action.capability):
        raise PermissionDenied
    return action


def _offered(action: BulkAction, tenant: Tenant) -> bool:
    return action in BULK_ACTIONS.for_tenant(tenant)


# -- starting --------------------------------------------------------------------------------
def client_bulk_action_start(
    *,
    tenant: Tenant,
    actor,
    membership,
    action: BulkAction,
    selection: dict,
    parameters: dict,
    title: StoredText,
    inline_limit: int,
    list_query: str = "",
) -> ClientBulkAction | str:
    """Run `action` on the selection: inline when it has at most `inline_limit` clients,
    else queued as a job after the commit. Returns the recorded action, or for an action that
    hands the selection to a job of its own (an export), the URL of that job's page
    (`list_query`: the list's query string the selection was made on, which the export of
    ticked clients applies around their ids)."""
    if not membership.allows(action.capability):
        raise PermissionDenied
    stored_text_required(title, what="A bulk action's title")
    if action.hand_off is not None:
        return action.hand_off(
            tenant=tenant,
            actor=actor,
            membership=membership,
            selection=selection,
            list_query=list_query,
            title=title,
        )
    total = bulk_selection_clients(tenant=tenant, selection=selection).count()
    job = ClientBulkAction.objects.for_tenant(tenant).create(
        tenant=tenant,
        created_by=actor,
        action=action.name,
        title=title,
        parameters=parameters,
        selection=selection,
        total=total,
    )
    if total <= inline_limit:
        return client_bulk_action_execute(job=job)
    transaction.on_commit(lambda: _queue(job))
    return job


def _queue(job: ClientBulkAction) -> None:
    from .tasks import client_bulk_action_run  # the task calls these services: a circle

    client_bulk_action_run.delay(job.pk, tenant_id=job.tenant_id)


def client_bulk_action_recover(*, job: ClientBulkAction, lease: Lease, now) -> str:
    """The sweep found the job's lease expired: queue it again (it resumes after its last
    committed chunk)."""
    return lease_requeue_or_fail(lease, now, queue=lambda: _queue(job))


# -- running ---------------------------------------------------------------------------------
class BulkActionGone(WorkStopped):
    """The action is no longer offered (its module switched off) or the creator lost the
    right to it: the job fails with this message."""


BULK_REASONS = (
    (ValidationError, validation_message),  # e.g. the client type was removed
)


def client_bulk_action_execute(
    *, job: ClientBulkAction, chunk_size: int = CHUNK_SIZE
) -> ClientBulkAction:
    """Claim the job (or take over one whose worker died) and work the chunks after
    `last_client_id`, each in one transaction with its counts."""
    return leased_job_run(
        job,
        lambda job, lease: _run(job, lease, chunk_size),
        label=f"Client bulk action {job.pk}",
        failed=stored_gettext(
            "The action failed. Please try again; if it fails again, contact support."
        ),
        reasons=BULK_REASONS,
    )


def _creator_action(job: ClientBulkAction) -> BulkAction:
    tenant = job.tenant
    membership = Membership.objects.for_tenant(tenant).filter(user_id=job.created_by_id).first()
    if membership is None:
        raise BulkActionGone(
            stored_gettext("The operator who started this action no longer works here.")
        )
    membership.tenant = tenant
    try:
        return bulk_action_for(membership, job.action)
    except LookupError:
        raise BulkActionGone(stored_gettext("This action is no longer available.")) from None
    except PermissionDenied:
        raise BulkActionGone(
            stored_gettext("The operator who started this action may no longer do it.")
        ) from None


def _run(job: ClientBulkAction, lease: Lease, chunk_size: int) -> None:
    action = _creator_action(job)
    tenant = job.tenant
    selected = bulk_selection_clients(tenant=tenant, selection=job.selection)
    while True:
        with transaction.atomic():
            ids = list(
                selected.filter(pk__gt=job.last_client_id)
                .order_by("pk")
                .values_list("pk", flat=True)[:chunk_size]
            )
            if not ids:
                break
            outcome = action.run(
                tenant=tenant, actor=job.created_by, client_ids=ids, parameters=job.parameters
            )
            _record_chunk(job, lease, ids, outcome)
    if not lease_finish(lease, status=BulkActionStatus.DONE):
        raise LeaseLost(f"ClientBulkAction {job.pk}")


def _record_chunk(job: ClientBulkAction, lease: Lease, ids: list[int], outcome: BulkOutcome):
    """The chunk's counts, refused clients and last id, in the chunk's transaction (under the
    lease: a worker that lost it rolls its chunk back)."""
    named = (
        {
            pk: (number, name)
            for pk, number, name in Client.objects.for_tenant(job.tenant)
            .filter(pk__in=list(outcome.refused))
            .values_list("pk", "number", "name")
        }
        if outcome.refused
        else {}
    )
    job.done += len(outcome.done)
    job.unchanged += len(outcome.unchanged)
    job.refused = job.refused + [
        {"id": pk, "number": named[pk][0], "name": named[pk][1], "reason": encode_param(reason)}
        for pk, reason in sorted(outcome.refused.items())
    ]
    job.last_client_id = ids[-1]
    if not lease.rows().update(
        done=job.done,
        unchanged=job.unchanged,
        refused=job.refused,
        last_client_id=job.last_client_id,
        heartbeat_at=timezone.now(),
        lease_expires_at=timezone.now() + ClientBulkAction.lease_duration(),
    ):
        raise LeaseLost(f"ClientBulkAction {job.pk}")


# -- the client list's own actions (registered in ClientsConfig.ready()) ----------------------
COMMENT_MAX = 200  # as the deletion page's comment


def _group_parameters(data, tenant) -> dict:
    """The client type chosen (its id), or none: "no client type"."""
    value = data.get("group") or None
    if value is None:
        return {"group": None}
    if not isinstance(value, ClientGroup):
        pk = query_integer(value)
        value = pk and ClientGroup.objects.for_tenant(tenant).filter(pk=pk).first()
    if value is None or value.tenant_id != tenant.pk:
        raise ValidationError({"group": _("Choose one of your client types.")}, code="invalid")
    return {"group": value.pk}


def _change_group(*, tenant, actor, client_ids, parameters) -> BulkOutcome:
    group = None
    if parameters.get("group") is not None:
        group = ClientGroup.objects.for_tenant(tenant).filter(pk=parameters["group"]).first()
        if group is None:
            raise ValidationError(_("The client type chosen no longer exists."), code="gone")
    return clients_change_group(tenant=tenant, actor=actor, client_ids=client_ids, group=group)


def _delete_parameters(data, tenant) -> dict:
    comment = (data.get("comment") or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationError(
            {
                "comment": _("Keep the comment to %(limit)s characters (it has %(count)s).")
                % {"limit": COMMENT_MAX, "count": len(comment)}
            },
            code="max_length",
        )
    return {"comment": comment}


def _delete(*, tenant, actor, client_ids, parameters) -> BulkOutcome:
    return clients_delete(
        tenant=tenant, actor=actor, client_ids=client_ids, comment=parameters.get("comment", "")
    )


CLIENT_BULK_ACTIONS = (
    BulkAction(
        name="change_group",
        label=gettext_lazy("Change client type"),
        capability=Capability.MANAGE_CLIENTS,
        run=_change_group,
        clean=_group_parameters,
        parameters=("group",),
        done_label=gettext_lazy("Changed"),
        order=30,
    ),
    BulkAction(
        name="delete",
        label=gettext_lazy("Delete"),
        capability=Capability.MANAGE_CLIENTS,
        run=_delete,
        clean=_delete_parameters,
        parameters=("comment",),
        done_label=gettext_lazy("Deleted"),
        order=90,
    ),
)
