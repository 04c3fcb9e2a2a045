"""Sentences written once and read later, stored as their message rather than their words.

An event's description is written when the change happens and read for years, by operators
of either language. Rendered with `gettext` at write time it would keep the writer's language
(an English colleague's, a beat job's). Instead the writer stores a `StoredText`: the msgid
(with its plural and count, its context) and typed parameters, as JSON. Turned into text it
is translated in the language active then, the reader's, and its parameters follow the
reader's formats:

- literal strings and whole numbers (names, logins, codes) as they are;
- nested messages (a status, a hold's kind, a choice's label: a lazy label is stored as its
  msgid), translated at read time too;
- `Money` through `core.formatting.format_amount`;
- `Count` (a whole number that may run into thousands) grouped by `core.formatting.format_count`;
- dates and datetimes through `core.formatting` (the tenant's formats and zone);
- lists (field labels: "Changed: name, phone") each rendered, joined by commas;
- `Capitalized(...)` of any of these, its first letter upper case.

Writers build one with the marker functions `stored_gettext`, `stored_ngettext` and
`stored_pgettext`, which makemessages extracts like their gettext namesakes
(core/management/commands/makemessages.py). Text that is not a message (a plain old row's
sentence, an operator's words) is `literal_text(...)` and renders unchanged. A bad translation
or a missing parameter never raises at read time: the untranslated message, else the bare
msgid, is shown and the fault logged. Columns that hold one (`StoredTextField`) refuse a plain
`str` in their writers (`stored_text_required`): an event's description, a ledger purpose.

Besides events and ledger purposes, a router's last error, a disabled webhook endpoint's reason,
an import's refused rows and every leased job's failure reason (core/leases.py) are stored so (a
`StoredTextField` each): `label_text` stores a
lazy label, `validation_message` a form's refusal as the msgid Django or our code raised it
with, and `text_column_to_stored_text` is the migration that turns a text column into such a
field in place, each old row's words kept as literal text.
"""

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import migrations, models
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext, npgettext, pgettext

from .formatting import format_amount, format_count, format_date, format_datetime, money

logger = logging.getLogger(__name__)

LIST_SEPARATOR = ", "


@dataclass(frozen=True)
class Money:
    """An amount in its currency (blank: the active tenant's), rendered in the reader's
    separators and currency sign; without `show_currency`, the number alone."""

    amount: Decimal
    currency: str = ""
    places: int = 2
    show_currency: bool = True

    def __str__(self) -> str:
        """In the active language's formats: a parameter of a lazy message (a ValidationError's)
        that is rendered when it is read."""
        return render_param(encode_param(self))


@dataclass(frozen=True)
class Count:
    """A whole number grouped in the reader's separators ("12,345" or "12 345"): a count of
    parts or messages, where a plain int would show "12345"."""

    value: int

    def __str__(self) -> str:
        return render_param(encode_param(self))


@dataclass(frozen=True)
class Capitalized:
    """A parameter whose first letter is upper case once rendered (a field's label that
    begins a sentence: "Phone: … → …")."""

    value: object


@dataclass(frozen=True)
class StoredText:
    """A message and its parameters; `str()` renders it in the active language.

    `params` hold the JSON form of each parameter (`encode_param`), so that what is stored is
    exactly what is rendered, and a value JSON cannot hold is refused when it is written."""

    msgid: str
    params: dict = field(default_factory=dict)
    plural: str = ""
    count: int | None = None
    context: str = ""
    literal: bool = False

    @classmethod
    def of_literal(cls, text: str) -> "StoredText":
        """Text that is no message (an old row's sentence, an operator's words): shown as is."""
        return cls(msgid=str(text), literal=True)

    def __str__(self) -> str:
        return self.render()

    def __bool__(self) -> bool:
        """Empty text (a blank column) is false, like an empty string."""
        return bool(self.msgid)

    def render(self) -> str:
        """The sentence in the active language, never raising."""
        if self.literal:
            return self.msgid
        template = self._translated()
        if not self.params:
            return template
        # Whole numbers stay numbers: Django's messages take them as `%(limit_value)d`.
        values = {
            name: value if type(value) is int else render_param(value)
            for name, value in self.params.items()
        }
        try:
            return template % values
        except (KeyError, ValueError, TypeError) as error:
            logger.warning("Stored message %r does not take its parameters: %s", self.msgid, error)
        try:
            return self._untranslated() % values
        except (KeyError, ValueError, TypeError):
            return template

    def _translated(self) -> str:
        if self.plural:
            count = self.count or 0
            if self.context:
                return npgettext(self.context, self.msgid, self.plural, count)
            return ngettext(self.msgid, self.plural, count)
        if self.context:
            return pgettext(self.context, self.msgid)
        return gettext(self.msgid)

    def _untranslated(self) -> str:
        return self.plural if self.plural and self.count != 1 else self.msgid

    def to_json_text(self) -> str:
        """`to_json` as the JSON text a raw statement binds to a jsonb column or array."""
        return json.dumps(self.to_json())

    def to_json(self) -> str | dict:
        """A literal as its JSON string (as the rows before messages hold it), a message as
        an object with only the keys it uses."""
        if self.literal:
            return self.msgid
        document: dict = {"msgid": self.msgid}
        if self.plural:
            document["plural"] = self.plural
            document["count"] = self.count
        if self.context:
            document["context"] = self.context
        if self.params:
            document["params"] = dict(self.params)
        return document

    @classmethod
    def from_json(cls, document) -> "StoredText":
        """A stored value back: a string (a row written before messages) is literal text."""
        if isinstance(document, cls):
            return document
        if isinstance(document, dict) and isinstance(document.get("msgid"), str):
            params = document.get("params")
            count = document.get("count")
            return cls(
                msgid=document["msgid"],
                params=params if isinstance(params, dict) else {},
                plural=str(document.get("plural") or ""),
                count=count if isinstance(count, int) else None,
                context=str(document.get("context") or ""),
            )
        if document is None:
            return cls.of_literal("")
        if not isinstance(document, str):
            logger.warning("Stored text of an unknown shape: %r", document)
        return cls.of_literal(document if isinstance(document, str) else str(document))


# No text: a column's blank (no error, no reason yet). StoredText is frozen, so one serves all.
EMPTY_TEXT = StoredText.of_literal("")


def stored_text_required(value, *, what: str) -> None:
    """Refuse a value that is not a StoredText (TypeError): a sentence rendered when it is
    written would stay in the writer's language for every later reader. `what` names the
    column ("An event's description")."""
    if not isinstance(value, StoredText):
        raise TypeError(
            f"{what} is a StoredText (core.stored_text.stored_gettext, or literal_text for "
            f"words typed by a person), not {type(value).__name__}"
        )


def _encode_params(params: dict) -> dict:
    return {name: encode_param(value) for name, value in params.items()}


def literal_text(text: str) -> StoredText:
    """Text that is no message, shown as it is in every language (see StoredText.of_literal)."""
    return StoredText.of_literal(text)


def stored_gettext(msgid: str, /, **params) -> StoredText:
    """`gettext(msgid) % params`, translated when it is read rather than now."""
    return StoredText(msgid=msgid, params=_encode_params(params))


def stored_pgettext(context: str, msgid: str, /, **params) -> StoredText:
    """`pgettext(context, msgid) % params`, translated when it is read."""
    return StoredText(msgid=msgid, context=context, params=_encode_params(params))


def stored_ngettext(singular: str, plural: str, number: int, /, **params) -> StoredText:
    """`ngettext(singular, plural, number) % params`, translated when it is read (the
    number is the `count` parameter unless one is given)."""
    params.setdefault("count", number)
    return StoredText(
        msgid=singular, plural=plural, count=int(number), params=_encode_params(params)
    )


def field_labels(model, names) -> list:
    """The labels of a model's fields (their lazy verbose names, so stored as msgids), in
    the order given; a name that is no field of the model stays as it is."""
    labels = []
    for name in names:
        try:
            labels.append(model._meta.get_field(name).verbose_name)
        except Exception:  # noqa: BLE001 - FieldDoesNotExist, or a name no model knows
            labels.append(name)
    return labels


def _lazy_message(value: Promise) -> dict | str:
    """A lazy label (`gettext_lazy`, `pgettext_lazy`) as its message; anything else lazy is
    rendered now, in the writer's language (logged: it cannot follow the reader)."""
    args = getattr(value, "_args", ())
    if args and all(isinstance(arg, str) for arg in args) and not getattr(value, "_kw", None):
        if len(args) == 1:
            return {"msgid": args[0]}
        if len(args) == 2:
            return {"msgid": args[1], "context": args[0]}
    logger.warning("A lazy parameter without a msgid is stored in the writer's language")
    return str(value)


def label_text(label) -> StoredText:
    """A label as stored text: a lazy label (a field's verbose name) as its msgid, read in the
    reader's language; a plain string as it is."""
    if isinstance(label, StoredText):
        return label
    if isinstance(label, Promise):
        return StoredText.from_json(_lazy_message(label))
    return literal_text("" if label is None else str(label))


def _plural_message(message: Promise) -> tuple[str, str, object, str] | None:
    """(singular, plural, number or the name of its parameter, context) of an `ngettext_lazy`
    or `npgettext_lazy` message, else None. Django keeps the name of the number's parameter
    only in what it pickles the message with."""
    kw = getattr(message, "_kw", None) or {}
    if not isinstance(kw.get("singular"), str) or not isinstance(kw.get("plural"), str):
        return None
    number = kw.get("number")
    if number is None:
        try:
            number = message.__reduce__()[1][2]
        except (AttributeError, IndexError, TypeError):
            return None
    return kw["singular"], kw["plural"], number, str(kw.get("context") or "")


PLACEHOLDER = re.compile(r"%\((\w+)\)")


def _encode_loose(params: dict, *msgids: str) -> dict:
    """Django's parameters of a message, only those its msgids use (Django passes the whole
    value refused too); what a stored message cannot hold (a model instance) as its text."""
    used = {name for msgid in msgids for name in PLACEHOLDER.findall(msgid)}
    encoded = {}
    for name, value in params.items():
        if name not in used:
            continue
        try:
            encoded[name] = encode_param(value)
        except TypeError:
            encoded[name] = str(value)
    return encoded


def validation_message(error: ValidationError) -> StoredText:
    """The first message of a ValidationError (of its first field) as stored text.

    Django's messages and ours are lazy (`gettext_lazy`, `ngettext_lazy`) with their
    parameters beside them: stored as the msgid (its plural and count, its context) and the
    parameters, they read in the reader's language, as the form would have said it to them.
    A message rendered when it was raised (a plain string) is kept as it is. One message is
    kept: a row refused is refused for its first reason."""
    if hasattr(error, "error_dict"):
        errors = next(iter(error.error_dict.values()), [])
    else:
        errors = error.error_list
    if not errors:
        return literal_text("")
    first = errors[0]
    message = first.message
    params = first.params if isinstance(first.params, dict) else {}
    if isinstance(message, StoredText):
        return message
    if isinstance(message, Promise):
        plural = _plural_message(message)
        if plural is not None:
            singular, plural_msgid, number, context = plural
            count = params.get(number) if isinstance(number, str) else number
            if isinstance(count, int):
                return StoredText(
                    msgid=singular,
                    plural=plural_msgid,
                    count=count,
                    context=context,
                    params=_encode_loose(params, singular, plural_msgid),
                )
        else:
            lazy = _lazy_message(message)
            if isinstance(lazy, dict):
                return StoredText(
                    msgid=lazy["msgid"],
                    context=lazy.get("context", ""),
                    params=_encode_loose(params, lazy["msgid"]),
                )
    return literal_text(" ".join(first.messages))


def encode_param(value):
    """A parameter in its stored form (module docstring lists the kinds)."""
    if value is None:
        return ""
    if isinstance(value, StoredText):
        return value.to_json()
    if isinstance(value, Promise):
        return _lazy_message(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, str | int):
        return value
    if isinstance(value, Capitalized):
        return {"capfirst": encode_param(value.value)}
    if isinstance(value, Count):
        return {"number": int(value.value)}
    if isinstance(value, Money):
        document = {"money": str(value.amount), "currency": value.currency}
        if value.places != 2:
            document["places"] = value.places
        if not value.show_currency:
            document["bare"] = True
        return document
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, Decimal | float):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return {"list": [encode_param(item) for item in items]}
    raise TypeError(f"A stored message cannot hold a parameter of type {type(value).__name__}")


def _render_money(document: dict) -> str:
    places = document.get("places")
    if document.get("bare"):
        return money(Decimal(document["money"]), places=places if isinstance(places, int) else 2)
    return format_amount(
        Decimal(document["money"]),
        places=places if isinstance(places, int) else 2,
        currency=document.get("currency") or None,
    )


def render_param(value) -> str:
    """A stored parameter in the active language and formats (never raising)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    try:
        if isinstance(value, dict):
            if "msgid" in value:
                return StoredText.from_json(value).render()
            if "money" in value:
                return _render_money(value)
            if "datetime" in value:
                return format_datetime(datetime.fromisoformat(value["datetime"]))
            if "date" in value:
                return format_date(date.fromisoformat(value["date"]))
            if "number" in value:
                return format_count(value["number"])
            if "capfirst" in value:
                return capfirst(render_param(value["capfirst"])) or ""
            if "list" in value:
                return LIST_SEPARATOR.join(render_param(item) for item in value["list"])
    except (ArithmeticError, TypeError, ValueError) as error:
        logger.warning("Stored parameter %r cannot be rendered: %s", value, error)
    return str(value)


class StoredTextField(models.JSONField):
    """A `StoredText` column (JSON): reads back a StoredText whatever the row holds; a string
    (a row from before messages, or text that is not JSON) reads as literal text."""

    def from_db_value(self, value, expression, connection):
        return StoredText.from_json(super().from_db_value(value, expression, connection))

    def to_python(self, value):
        return StoredText.from_json(value)

    def get_prep_value(self, value):
        if isinstance(value, StoredText):
            value = value.to_json()
        return super().get_prep_value(value)

    def validate(self, value, model_instance):
        super().validate(StoredText.from_json(value).to_json(), model_instance)

    def value_to_string(self, obj):
        return StoredText.from_json(self.value_from_object(obj)).to_json()


def text_column_to_stored_text(
    app_label: str, model_name: str, name: str, old: models.Field, *, verbose_name=None
):
    """A migration's operation: a text column becomes a StoredTextField in place, each row's
    text kept as a JSON string, which reads back as literal text (the old sentence shows as it
    was). On PostgreSQL the column changes type (`to_jsonb`); on SQLite (the demo) each value is
    quoted as JSON before the table is rebuilt with the JSON column's check. Backwards, a
    message becomes its msgid (cut to the old column's length). `verbose_name` is the new
    field's, when it has one."""
    new = StoredTextField(
        blank=old.blank, default=str, editable=old.editable, verbose_name=verbose_name
    )

    def fields(apps):
        model = apps.get_model(app_label, model_name)
        before, after = old.clone(), new.clone()
        for field_ in (before, after):
            field_.set_attributes_from_name(name)
            field_.model = model
        table = model._meta.db_table
        return model, before, after, table, before.column

    def forwards(apps, schema_editor):
        model, before, after, table, column = fields(apps)
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE jsonb USING to_jsonb({column})"
            )
            return
        schema_editor.execute(f"UPDATE {table} SET {column} = json_quote({column})")
        schema_editor.alter_field(model, before, after)

    def backwards(apps, schema_editor):
        model, before, after, table, column = fields(apps)
        if schema_editor.connection.vendor == "postgresql":
            text = (
                f"CASE WHEN jsonb_typeof({column}) = 'string' THEN {column} #>> '{{}}' "
                f"ELSE {column}->>'msgid' END"
            )
            if before.max_length:
                text = f"left({text}, {int(before.max_length)})"
            schema_editor.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE "
                f"{before.db_type(schema_editor.connection)} USING {text}"
            )
            return
        schema_editor.alter_field(model, after, before)
        schema_editor.execute(
            f"UPDATE {table} SET {column} = CASE WHEN json_type({column}) = 'text' "
            f"THEN json_extract({column}, '$') ELSE json_extract({column}, '$.msgid') END"
        )

    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AlterField(model_name=model_name, name=name, field=new)],
        database_operations=[migrations.RunPython(forwards, backwards)],
    )
