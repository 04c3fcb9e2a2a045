"""The client import: a file of clients mapped to client fields, previewed, then committed by
a worker in chunks. The page (views) and `manage.py import_clients` call these services.

Decisions where the requirements were silent:
- Each row goes through ClientForm with only its mapped fields, so that a row is refused for
  exactly what the form would refuse, and an unmapped field of an existing client is kept.
  The client type is given by its name (an unknown name refuses the row; types are not made).
- Every row needs its matching key (the external reference, the ITN or the login, as the
  tenant chooses); a key met twice in the file refuses the later row. A key that several
  clients share (ITN, login) refuses the row. Deleted clients are never matched.
- Contributed columns (billing's opening balance) apply to the clients the import creates:
  an existing client's balance is already its own. Their writes join the chunk's transaction.
  A column that needs a right (posting money needs MANAGE_CREDIT) is offered only to an
  operator who has it, and the worker checks the right of the import's creator again. The
  command runs without an operator: whoever runs it runs the server.
- A contributed column's write refused (unexpected: its cells were checked by `clean`) fails
  the import with the line: its chunk rolls back, nothing of it is counted.
- A refused row keeps its field's label and its reason as their messages (core/stored_text.py):
  the preview, the refused rows' workbook and the job's page read them in the reader's
  language, whoever previewed or committed. A form's refusal is stored as the message the form
  raised (Django's msgid or ours, with its parameters), its first one only.
- The mapping is remembered per tenant: the last one an operator confirmed, by header.
- The file is kept with the import (for the worker) under MEDIA_ROOT/imports/.
- A chunk's writes, its counts and `rows_done` commit together under the job's lease, so a
  killed worker's successor resumes after the last committed chunk: each row is counted once.
- A chunk's writes are set-based: one query matches its keys, one INSERT its new clients, one
  their accounts, one their activity lines; the session's cached plans are discarded before
  each chunk, so that the foreign-key checks of a table grown from nearly empty use its index.
"""

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.forms import CheckboxInput
from django.forms.models import model_to_dict
from django.utils import timezone, translation
from django.utils.text import capfirst
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
from core.sql import cached_plans_discard, instance_copy, objects_insert
from core.stored_text import (
    EMPTY_TEXT,
    StoredText,
    field_labels,
    label_text,
    stored_gettext,
    stored_ngettext,
    validation_message,
)
from core.text import refused_characters
from events.services import EventLine, event_record, events_record_bulk
from tenancy.models import Membership, Tenant
from tenancy.roles import Capability
from tenancy.services import tenant_next_number

from .extensions import IMPORT_COLUMNS, ImportColumn
from .forms import ClientForm
from .import_files import (
    KEPT_ROWS_SUFFIX,
    ImportFileError,
    identify,
    iter_rows,
    kept_rows,
    kept_rows_path,
    normalize_header,
    read_headers,
    rows_kept,
)
from .models import (
    Client,
    ClientGroup,
    ClientImport,
    ClientImportRefusal,
    ClientStatus,
    ImportStatus,
    MatchBy,
)
from .modules import CLIENT_FIELDS, hidden_names
from .signals import clients_bulk_created
from .validators import normalize_phone

CHUNK_ROWS = 1000
REFUSED_SHOWN = 1000  # refused rows listed on the page (all are in the download)
EXTERNAL_REF_MAX = 100
ACTOR_LABEL = "import"

# Header wording operators know, besides each field's name and label (the providers' documents).
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "external_ref": ("external id", "reference", "ref", "id", "client id", "customer id", "code"),
    "name": ("client name", "customer name", "full name", "client", "customer"),
    "company": ("company name", "organization", "organisation"),
    "email": ("e-mail", "email address", "mail"),
    "phone": ("contact number", "phone number", "telephone", "mobile"),
    "contact_name": ("contact person", "contact"),
    "contact_email": ("contact person's e-mail", "contact email"),
    "itn": ("inn", "tin", "tax id", "registration number"),
    "group": ("client type", "type", "group"),
    "external_tenant_name": ("microsoft tenant name", "tenant name"),
    "accounting_email": ("email accounting", "accounting e-mail"),
    "activity_type": ("type of activity",),
    "failed_login_attempts": ("login attempts",),
    "registered_on": ("registration date",),
    "last_login_at": ("last login date",),
    "last_purchase_at": ("last purchase date",),
    "login": ("login", "username", "pppoe username"),
}
# The same in Russian (the seeds' wording and what Russian-speaking operators' files say);
# headers match in either language, whatever the operator's language is.
HEADER_SYNONYMS_RU: dict[str, tuple[str, ...]] = {
    "external_ref": ("внешний id", "внешний идентификатор", "код", "код клиента", "id клиента"),
    "name": ("имя", "имя клиента", "наименование", "клиент", "фио"),
    "company": ("компания", "организация", "название компании"),
    "email": ("email", "эл. почта", "электронная почта", "почта", "e-mail"),
    "phone": ("телефон", "номер телефона", "контактный телефон", "мобильный"),
    "address": ("адрес",),
    "contact_name": ("контактное лицо", "контакт"),
    "contact_email": ("e-mail контактного лица", "почта контактного лица"),
    "country": ("страна",),
    "itn": ("инн", "регистрационный номер"),
    "group": ("тип клиента", "тип", "группа"),
    "property_type": ("форма собственности",),
    "activity_type": ("вид деятельности",),
    "region": ("регион",),
    "site": ("сайт",),
    "postal_address": ("почтовый адрес",),
    "accounting_email": ("e-mail бухгалтерии", "почта бухгалтерии"),
    "external_tenant_name": ("имя внешнего тенанта",),
    "channel": ("канал",),
    "referer": ("реферер", "источник"),
    "registered_on": ("дата регистрации",),
    "last_login_at": ("дата последнего входа",),
    "failed_login_attempts": ("попытки входа",),
    "activation_required": ("требуется активация",),
    "sms_price": ("цена sms", "цена смс"),
    "sms_subscription": ("подписка на sms", "подписка на смс"),
    "last_purchase_at": ("дата последней покупки",),
    "login": ("логин", "имя пользователя", "логин pppoe"),
}
# The languages whose field labels a header may use.
HEADER_LANGUAGES = ("en", "ru")
TRUE_WORDS = {"1", "yes", "y", "true", "on", "да"}
FALSE_WORDS = {"0", "no", "n", "false", "off", "нет", ""}


class ImportColumnRefused(WorkStopped):
    """A contributed column's write was refused in the commit: the chunk rolls back, and the
    import fails with the reason."""


# -- fields and mapping ------------------------------------------------------------------------
def _operator(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def import_columns(tenant: Tenant, actor) -> list[ImportColumn]:
    """The contributed columns that `actor` may fill: one needing a right that the actor's
    membership lacks is left out. No actor is the command."""
    columns = list(IMPORT_COLUMNS.for_tenant(tenant))
    if _operator(actor) is None:
        return columns
    membership = Membership.objects.for_tenant(tenant).filter(user=actor).first()
    return [
        c
        for c in columns
        if not c.capability or (membership is not None and membership.allows(c.capability))
    ]


def importable_labels(tenant: Tenant, actor) -> dict:
    """Field name -> lazy label of what a file may fill for this tenant and operator: the
    external reference, the form's fields of the tenant's modules, and the contributed
    columns. A refused row stores its field's label as its message (read in the reader's
    language)."""
    hidden = hidden_names(CLIENT_FIELDS, tenant)
    labels = {"external_ref": Client._meta.get_field("external_ref").verbose_name}
    for name in ClientForm.Meta.fields:
        if name not in hidden:
            labels[name] = Client._meta.get_field(name).verbose_name
    for column in import_columns(tenant, actor):
        labels[column.name] = column.label
    return labels


def importable_fields(tenant: Tenant, actor) -> dict[str, str]:
    """Field name -> label, in the active language and capitalised as a heading."""
    return {name: capfirst(str(label)) for name, label in importable_labels(tenant, actor).items()}


def _header_index(tenant: Tenant, actor) -> dict[str, str]:
    """Normalised header -> field: each field's name, its label in English and in Russian, the
    synonyms of both languages and the contributed columns' own headers."""
    index: dict[str, str] = {}
    contributed = {c.name: c.headers for c in import_columns(tenant, actor)}
    labels: dict[str, list[str]] = {}
    for language in HEADER_LANGUAGES:
        with translation.override(language):
            for name, label in importable_fields(tenant, actor).items():
                labels.setdefault(name, []).append(str(label))
    for name, names_labels in labels.items():
        words = (
            name,
            *names_labels,
            *HEADER_SYNONYMS.get(name, ()),
            *HEADER_SYNONYMS_RU.get(name, ()),
            *contributed.get(name, ()),
        )
        for word in words:
            index.setdefault(normalize_header(word), name)
    return index


def suggested_mapping(tenant: Tenant, headers: list[str], actor) -> dict[str, str]:
    """Header -> field: the tenant's remembered choice for that header, else by its wording."""
    remembered = remembered_mapping(tenant)
    index = _header_index(tenant, actor)
    fields = importable_fields(tenant, actor)
    mapping: dict[str, str] = {}
    for header in headers:
        key = normalize_header(header)
        if not key:
            continue
        chosen = remembered.get(key, index.get(key, ""))
        if chosen in fields and chosen not in mapping.values():
            mapping[header] = chosen
    return mapping


def remembered_mapping(tenant: Tenant) -> dict[str, str]:
    last = (
        ClientImport.objects.for_tenant(tenant)
        .exclude(status=ImportStatus.PREVIEWED)
        .order_by("-created_at", "-id")
        .values_list("mapping", flat=True)
        .first()
    )
    return {normalize_header(h): f for h, f in (last or {}).items()}


def mapping_checked(
    tenant: Tenant, headers: list[str], mapping: dict, match_by: str, actor
) -> dict:
    """The mapping the operator chose, refused when it maps a field twice, names a field the
    tenant has not or a column the operator may not fill, or lacks the matching key's column."""
    fields = importable_fields(tenant, actor)
    cleaned = {h: f for h, f in mapping.items() if f and h in headers}
    for column in IMPORT_COLUMNS.for_tenant(tenant):
        if column.name in cleaned.values() and column.name not in fields:
            right = Capability(column.capability).label.lower()
            raise ValidationError(
                {
                    "mapping": _("%(column)s: your role may not %(right)s; do not import it.")
                    % {"column": column.label, "right": right}
                }
            )
    unknown = [f for f in cleaned.values() if f not in fields]
    if unknown:
        raise ValidationError({"mapping": _("Unknown field %(name)r.") % {"name": unknown[0]}})
    chosen = list(cleaned.values())
    twice = {f for f in chosen if chosen.count(f) > 1}
    if twice:
        raise ValidationError(
            {"mapping": _("%(field)s is chosen for two columns.") % {"field": fields[twice.pop()]}}
        )
    if match_by not in MatchBy.values:
        raise ValidationError({"match_by": _("Choose how clients are matched.")})
    if match_by not in chosen:
        raise ValidationError(
            {
                "match_by": _("Map a column to %(field)s: clients are matched by it.")
                % {"field": MatchBy(match_by).label}
            }
        )
    return cleaned


# -- planning rows ------------------------------------------------------------------------------
CREATED, UPDATED, UNCHANGED, REFUSED = "created", "updated", "unchanged", "refused"


@dataclass
class RowPlan:
    line: int
    action: str
    cells: list
    client: Client | None = None
    data: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    field: StoredText = EMPTY_TEXT
    reason: StoredText = EMPTY_TEXT


@dataclass
class Planner:
    """Plans the rows of one file for one tenant: the fields are resolved once, the keys seen
    so far are kept across chunks (a key met twice refuses the later row)."""

    tenant: Tenant
    headers: list[str]
    mapping: dict[str, str]
    match_by: str
    actor: object
    seen: dict = field(default_factory=dict)

    def __post_init__(self):
        self.labels = importable_labels(self.tenant, self.actor)
        self.columns = {c.name: c for c in import_columns(self.tenant, self.actor)}
        self.positions = {
            f: self.headers.index(h) for h, f in self.mapping.items() if h in self.headers
        }
        self.form_fields = [
            f for f in self.positions if f in ClientForm.Meta.fields and f != "group"
        ]
        self.groups = {
            normalize_header(g.name): g for g in ClientGroup.objects.for_tenant(self.tenant)
        }
        # What a new row's form validates: copied per row, half the cost of building one.
        self._blank = Client(tenant=self.tenant)

    def value(self, cells: list, name: str):
        position = self.positions.get(name)
        value = cells[position] if position is not None and position < len(cells) else None
        return "" if value is None else value

    def key(self, cells: list) -> str:
        value = str(self.value(cells, self.match_by)).strip()
        if self.match_by == MatchBy.ITN:
            return "".join(value.split())
        if self.match_by == MatchBy.LOGIN and value:
            country = str(self.value(cells, "country")).strip().upper() or None
            try:
                return normalize_phone(value, country)
            except ValidationError:
                return value
        return value

    def plan(self, rows: list[tuple[int, list]]) -> list[RowPlan]:
        """Plan a chunk: one query for the clients its keys match, then each row alone."""
        keys = [self.key(cells) for _, cells in rows]
        existing = self._existing({k for k in keys if k})
        return [
            self._plan_row(line, cells, key, existing)
            for (line, cells), key in zip(rows, keys, strict=True)
        ]

    def _existing(self, keys: set[str]) -> dict[str, list[Client]]:
        found: dict[str, list[Client]] = {}
        clients = (
            Client.objects.for_tenant(self.tenant)
            .filter(**{f"{self.match_by}__in": keys})
            .select_related("group")
        )
        for client in clients:
            found.setdefault(getattr(client, self.match_by), []).append(client)
        return found

    def _refuse(self, line, cells, name: str, reason: StoredText) -> RowPlan:
        """A refused row: its field's label and its reason as messages (module docstring)."""
        label = label_text(self.labels.get(name, name))
        return RowPlan(line, REFUSED, cells, field=label, reason=reason)

    def _plan_row(self, line, cells, key, existing) -> RowPlan:
        if not key:
            return self._refuse(
                line, cells, self.match_by, stored_gettext("Empty: clients are matched by it.")
            )
        if key in self.seen:
            return self._refuse(
                line,
                cells,
                self.match_by,
                stored_gettext("The same as line %(line)s of the file.", line=self.seen[key]),
            )
        self.seen[key] = line
        matches = existing.get(key, [])
        if len(matches) > 1:
            return self._refuse(
                line,
                cells,
                self.match_by,
                stored_ngettext(
                    "%(count)s client has this value.",
                    "%(count)s clients have this value.",
                    len(matches),
                ),
            )
        client = matches[0] if matches else None
        if client is not None and client.is_deleted:
            return self._refuse(
                line, cells, self.match_by, stored_gettext("A deleted client has this value.")
            )
        try:
            data = self._client_data(cells, client)
            extra = self._extra(cells)
        except ValidationError as error:
            return self._refuse(line, cells, _error_field(error), validation_message(error))
        if client is None:
            return RowPlan(line, CREATED, cells, data=data, extra=extra)
        changes = {n: v for n, v in data.items() if getattr(client, n) != v}
        action = UPDATED if changes else UNCHANGED
        return RowPlan(line, action, cells, client=client, data=changes)

    def _client_data(self, cells: list, client: Client | None) -> dict:
        if client is None and "name" not in self.positions:
            raise ValidationError({"name": gettext_lazy("Map a column to Name to create clients.")})
        form = self._bound_form(self._form_data(cells), instance_copy(client or self._blank))
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())
        data = form.service_data()
        if "external_ref" in self.positions:
            data["external_ref"] = _external_ref(self.value(cells, "external_ref"))
        if "group" in self.positions:
            data["group"] = self._group(self.value(cells, "group"))
        return data

    def _bound_form(self, data: dict, instance: Client) -> "ImportClientForm":
        """The planner's one ClientForm (its mapped fields only), bound to the row: building
        a form per row would copy its fields 100,000 times for the same validation."""
        form = getattr(self, "_form", None)
        if form is None:
            form = self._form = ImportClientForm(tenant=self.tenant)
            for name in list(form.fields):
                if name not in self.form_fields:
                    form.fields.pop(name)
        # The client's constraints are on fields outside the form (see ImportClientForm).
        instance.validate_constraints = _no_constraints
        form.is_bound, form.data, form.instance = True, data, instance
        form.initial = self._initial_of(form, instance)
        form._errors, form._bound_fields_cache = None, {}
        return form

    def _initial_of(self, form, instance: Client) -> dict:
        """What the form compares a row with: the client's stored values, so that a cell the
        file holds as the client does is left alone as on the edit form (the blank client's
        defaults for a new one, built once)."""
        if instance.pk is not None:
            return model_to_dict(instance, fields=form.fields)
        blank = getattr(self, "_blank_initial", None)
        if blank is None:
            blank = self._blank_initial = model_to_dict(instance, fields=form.fields)
        return blank

    def _form_data(self, cells: list) -> dict:
        data = {}
        for name in self.form_fields:
            value = self.value(cells, name)
            if isinstance(ClientForm.base_fields[name].widget, CheckboxInput):
                word = str(value).strip().lower()
                if word not in TRUE_WORDS | FALSE_WORDS:
                    raise ValidationError({name: gettext_lazy("Enter yes or no.")})
                value = "true" if word in TRUE_WORDS else "false"
            data[name] = value
        return data

    def _group(self, value) -> ClientGroup | None:
        name = str(value).strip()
        if not name:
            return None
        group = self.groups.get(normalize_header(name))
        if group is None:
            refused = ValidationError(
                gettext_lazy("No client type is named “%(name)s”."), params={"name": name[:100]}
            )
            raise ValidationError({"group": refused})
        return group

    def _extra(self, cells: list) -> dict:
        extra = {}
        for name, column in self.columns.items():
            if name in self.positions:
                value = self.value(cells, name)
                if value not in ("", None):
                    try:
                        extra[name] = column.clean(value)
                    except ValidationError as error:
                        raise ValidationError({name: error}) from error
        return extra


class ImportClientForm(ClientForm):
    """ClientForm as the import binds it: the unique constraints of a client are on fields a
    file does not give through the form (the number; the external reference, which the import
    matches itself), so they are not looked up once per row."""

    def validate_unique(self):
        return None


def _no_constraints(exclude=None):
    return None


def _external_ref(value) -> str:
    text = str(value).strip()
    if len(text) > EXTERNAL_REF_MAX:
        too_long = ValidationError(
            gettext_lazy("At most %(limit)s characters."), params={"limit": EXTERNAL_REF_MAX}
        )
        raise ValidationError({"external_ref": too_long})
    if refused_characters(text):
        raise ValidationError({"external_ref": gettext_lazy("Control characters are not allowed.")})
    return text


def _error_field(error: ValidationError) -> str:
    """The field a refusal names: the first of the error's fields (none for the row's own)."""
    if hasattr(error, "error_dict"):
        name = next(iter(error.error_dict), "")
        return "" if name == "__all__" else name
    return ""


# -- files and preview ------------------------------------------------------------------------
def file_hash(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def job_rows(job: ClientImport) -> Iterator[tuple[int, list]]:
    """The rows of the job's file, the header first: those its preview kept, else (a file
    uploaded before rows were kept) read from the file again."""
    kept = kept_rows_path(job.file.path)
    if os.path.exists(kept):
        return kept_rows(kept)
    return iter_rows(identify(job.file.path, job.file_name))


def _chunks(rows: Iterable, size: int = CHUNK_ROWS):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _refusal(job: ClientImport, plan: RowPlan) -> ClientImportRefusal:
    cells = [c.isoformat() if hasattr(c, "isoformat") else c for c in plan.cells]
    return ClientImportRefusal(
        tenant_id=job.tenant_id,
        job=job,
        line=plan.line,
        field=plan.field,
        reason=plan.reason,
        cells=cells,
    )


def _refusals_replace(job: ClientImport, refusals: list[ClientImportRefusal]) -> None:
    """The refused rows of a new preview, instead of the previous one's."""
    job.refused_rows().delete()
    for refusal in refusals:
        refusal.job = job
    ClientImportRefusal.objects.bulk_create(refusals, batch_size=1000)


def client_import_upload(*, tenant: Tenant, actor, path: str, file_name: str) -> ClientImport:
    """Check the file, read its headers, suggest a mapping and preview it. A bad file raises
    ImportFileError and nothing is kept."""
    file_name = file_name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200] or "clients"
    source = identify(path, file_name)
    descriptor, kept = tempfile.mkstemp(suffix=KEPT_ROWS_SUFFIX)
    os.close(descriptor)
    # read once, kept for a preview again and the commit: the headers, then the rows
    rows = rows_kept(iter_rows(source), kept)
    try:
        headers = read_headers(rows)
        mapping = suggested_mapping(tenant, headers, actor)
        match_by = next((m for m in MatchBy.values if m in mapping.values()), MatchBy.EXTERNAL_REF)
        job = ClientImport(
            tenant=tenant,
            created_by=_operator(actor),
            file_name=file_name,
            file_hash=file_hash(path),
            headers=headers,
            mapping=mapping,
            match_by=match_by,
        )
        preview = _preview_counts(job, rows)  # before the row exists: a bad file leaves nothing
        with open(path, "rb") as handle:
            job.file.save(file_name, File(handle), save=False)
        shutil.move(kept, kept_rows_path(job.file.path))
    finally:
        rows.close()  # a file refused half-way: its partial rows go too
        if os.path.exists(kept):
            os.unlink(kept)
    job.preview, refusals, job.total = preview
    job.save()
    _refusals_replace(job, refusals)
    return job


def client_import_preview(
    *, job: ClientImport, mapping: dict, match_by: str, actor
) -> ClientImport:
    """Preview again with the operator's mapping (refused: ValidationError by field)."""
    if job.status != ImportStatus.PREVIEWED:
        raise ValidationError(_("This import was committed already."))
    job.mapping = mapping_checked(job.tenant, job.headers, mapping, match_by, actor)
    job.match_by = match_by
    rows = job_rows(job)
    read_headers(rows)
    job.preview, refusals, job.total = _preview_counts(job, rows)
    job.save(update_fields=["mapping", "match_by", "preview", "total"])
    _refusals_replace(job, refusals)
    return job


def _preview_counts(job: ClientImport, rows: Iterable) -> tuple[dict, list, int]:
    """Count what a commit would do with `rows` (the file's rows after its header), writing
    nothing; a bad file raises ImportFileError."""
    counts = dict.fromkeys((CREATED, UPDATED, UNCHANGED, REFUSED), 0)
    refused: list[ClientImportRefusal] = []
    total = 0
    planner = Planner(job.tenant, job.headers, job.mapping, job.match_by, job.created_by)
    for chunk in _chunks(rows):
        total += len(chunk)
        if job.match_by not in job.mapping.values():
            continue
        for plan in planner.plan(chunk):
            counts[plan.action] += 1
            if plan.action == REFUSED:
                refused.append(_refusal(job, plan))
    if total == 0:
        raise ImportFileError(_("The file has a header row but no clients."), code="empty")
    if job.match_by not in job.mapping.values():
        counts[REFUSED] = total
    return counts, refused, total


# -- commit ---------------------------------------------------------------------------------
def client_import_commit(*, job: ClientImport, actor, queue: bool = True) -> ClientImport:
    """Queue the commit after the transaction (the page's button; the command runs it itself,
    `queue=False`); the mapping becomes the tenant's remembered one."""
    mapping_checked(job.tenant, job.headers, job.mapping, job.match_by, actor)
    updated = ClientImport.objects.for_tenant(job.tenant).filter(
        pk=job.pk, status=ImportStatus.PREVIEWED
    )
    language = translation.get_language() or job.language
    if (
        updated.update(status=ImportStatus.QUEUED, counts={}, rows_done=0, language=language)
        and queue
    ):
        transaction.on_commit(lambda: _queue(job))
    job.refresh_from_db()
    return job


def _queue(job: ClientImport) -> None:
    from .tasks import client_import_run  # the task calls these services: a circle

    client_import_run.delay(job.pk, tenant_id=job.tenant_id)


def client_import_recover(*, job: ClientImport, lease: Lease, now) -> str:
    """The sweep found the commit's lease expired: queue it again (it resumes after its last
    committed chunk)."""
    return lease_requeue_or_fail(lease, now, queue=lambda: _queue(job))


# What an import that stops on an error tells the operator, by the error (a ValidationError:
# the creator's right was taken away since the preview).
IMPORT_REASONS = (
    (ValidationError, validation_message),  # a bad file (ImportFileError) among them
)


def client_import_execute(*, job: ClientImport, chunk_rows: int = CHUNK_ROWS) -> ClientImport:
    """The worker's part: claim the import (or take over one whose worker died), then write
    the chunks after `rows_done`, each in one transaction with its counts."""
    return leased_job_run(
        job,
        lambda job, lease: _commit(job, lease, chunk_rows),
        label=f"Client import {job.pk}",
        failed=stored_gettext(
            "The import failed. Please try again; if it fails again, contact support."
        ),
        reasons=IMPORT_REASONS,
    )


def _commit(job: ClientImport, lease: Lease, chunk_rows: int) -> None:
    mapping_checked(job.tenant, job.headers, job.mapping, job.match_by, job.created_by)
    rows = job_rows(job)
    read_headers(rows)
    planner = Planner(job.tenant, job.headers, job.mapping, job.match_by, job.created_by)
    counts = {**dict.fromkeys((CREATED, UPDATED, UNCHANGED, REFUSED), 0), **job.counts}
    if not job.rows_done:  # the preview's refused rows give way to the commit's
        job.refused_rows().delete()
    done = 0
    for chunk in _chunks(rows, chunk_rows):
        if done + len(chunk) <= job.rows_done:  # committed by an earlier worker: keys only
            for _, cells in chunk:
                planner.seen.setdefault(planner.key(cells), 0)
            done += len(chunk)
            continue
        done += len(chunk)
        with transaction.atomic():
            cached_plans_discard()  # the clients' table grows chunk by chunk
            plans = planner.plan(chunk)
            chunk_counts = _write_chunk(job, plans)
            for action, n in chunk_counts.items():
                counts[action] += n
            ClientImportRefusal.objects.bulk_create(
                [_refusal(job, p) for p in plans if p.action == REFUSED]
            )
            if not lease.rows().update(rows_done=done, counts=counts, heartbeat_at=timezone.now()):
                raise LeaseLost(f"ClientImport {job.pk}")
    with transaction.atomic():
        if not lease_finish(lease, status=ImportStatus.DONE, rows_done=done, total=done):
            raise LeaseLost(f"ClientImport {job.pk}")
        _record_finished(job, counts, done)


def _record_finished(job: ClientImport, counts: dict, rows: int) -> None:
    """import.finished, in the transaction that marks the import done: once per import."""
    event_record(
        tenant=job.tenant,
        type="import.finished",
        object_type="client_import",
        object_id=job.pk,
        actor=job.created_by,
        actor_label=ACTOR_LABEL,
        description=stored_gettext(
            "Client import of %(file)s finished: %(summary)s",
            file=job.file_name,
            summary=summary_message(counts),
        ),
        payload={"import": job.pk, "file": job.file_name, "rows": rows, "counts": counts},
    )


def _write_chunk(job: ClientImport, plans: list[RowPlan]) -> dict[str, int]:
    tenant = job.tenant
    counts = dict.fromkeys((CREATED, UPDATED, UNCHANGED, REFUSED), 0)
    for plan in plans:
        counts[plan.action] += 1
    created = [p for p in plans if p.action == CREATED]
    updated = [p for p in plans if p.action == UPDATED]
    actor = job.created_by
    lines = []
    source = {"source": "import", "import": job.pk, "file": job.file_name}
    if created:
        first = tenant_next_number(tenant=tenant, name="client", count=len(created))
        clients = []
        blank = Client(tenant=tenant, status=ClientStatus.ACTIVE)
        for offset, plan in enumerate(created):
            client = instance_copy(blank)  # half the cost of building each
            client.number, client.created_at = first + offset, timezone.now()
            for name, value in plan.data.items():
                setattr(client, name, value)
            client.refresh_search_text()
            clients.append(client)
        objects_insert(clients)
        ids = [c.pk for c in clients]
        clients_bulk_created.send(sender=Client, tenant=tenant, client_ids=ids)
        for plan, client in zip(created, clients, strict=True):
            plan.client = client
            payload = {"number": client.number, "name": client.name, **source}
            description = stored_gettext("Imported from %(file)s", file=job.file_name)
            lines.append(_event_line("client.created", client, description, payload, actor))
        _apply_columns(job, created)
    if updated:
        names = sorted({n for p in updated for n in p.data})
        for plan in updated:
            for name, value in plan.data.items():
                setattr(plan.client, name, value)
            plan.client.refresh_search_text()
            plan.client.updated_at = timezone.now()
            description = stored_gettext(
                "Updated from %(file)s: %(fields)s",
                file=job.file_name,
                fields=field_labels(Client, sorted(plan.data)),
            )
            payload = {"fields": sorted(plan.data), **source}
            lines.append(_event_line("client.updated", plan.client, description, payload, actor))
        Client.objects.for_tenant(tenant).bulk_update(
            [p.client for p in updated], [*names, "search_text", "updated_at"]
        )
    if lines:
        events_record_bulk(tenant=tenant, lines=lines, actor_label=ACTOR_LABEL)
    return counts


def _event_line(
    type_: str, client: Client, description: StoredText, payload: dict, actor
) -> EventLine:
    """A client created or updated by the import: the usual types, with `source` "import"."""
    return EventLine(
        type=type_, client_id=client.pk, description=description, payload=payload, actor=actor
    )


def _apply_columns(job: ClientImport, created: list[RowPlan]) -> None:
    """Write the contributed columns of the chunk's new clients; one refused write raises
    ImportColumnRefused with its line, so that the chunk rolls back rather than count a
    client created without its column."""
    lines = {p.client.pk: p.line for p in created}
    for column in import_columns(job.tenant, job.created_by):
        values = [(p.client.pk, p.extra[column.name]) for p in created if column.name in p.extra]
        if not values:
            continue
        results = column.apply(
            tenant=job.tenant,
            actor=job.created_by,
            file_name=job.file_name,
            file_hash=job.file_hash,
            values=values,
        )
        refused = next((r.error for r in results if r.error is not None), None)
        if refused is not None:
            first, last = min(lines.values()), max(lines.values())
            raise ImportColumnRefused(
                stored_gettext(
                    "%(column)s of a client of lines %(first)s–%(last)s was refused: "
                    "%(reason)s Nothing from line %(first)s on was imported.",
                    column=label_text(column.label),
                    first=first,
                    last=last,
                    reason=validation_message(refused),
                )
            )


def summary_message(counts: dict) -> StoredText:
    """E.g. "created 3, updated 1, unchanged 0, refused 2", read in the reader's language."""
    return stored_gettext(
        "created %(created)s, updated %(updated)s, unchanged %(unchanged)s, refused %(refused)s",
        **{action: counts.get(action, 0) for action in (CREATED, UPDATED, UNCHANGED, REFUSED)},
    )


def summary_line(counts: dict) -> str:
    """The summary in the active language (the command's last line)."""
    return str(summary_message(counts))
