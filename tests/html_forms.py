"""The forms of a page as a browser submits them, parsed from its HTML: each field with its name,
its kind (number, date, text, choice, hidden, secret) and the value sent when nothing is
changed. Shared by the bad-input walk and the round trip of the demo data."""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from django.urls import Resolver404, resolve


@dataclass
class Field:
    name: str
    kind: str  # number, date, text, choice, hidden, secret
    value: str | list[str] | None


@dataclass
class Form:
    method: str
    action: str
    fields: list[Field] = field(default_factory=list)

    def signature(self) -> tuple:
        """The same form on another page (or for another object) has the same signature."""
        try:
            target = resolve(urlsplit(self.action).path).view_name
        except Resolver404:
            target = self.action
        return (self.method, target, tuple(sorted(f.name for f in self.fields)))

    def data(self) -> dict:
        """What a browser submits when nothing is changed."""
        data: dict[str, list[str]] = {}
        for f in self.fields:
            if f.value is None:
                continue
            values = f.value if isinstance(f.value, list) else [f.value]
            data.setdefault(f.name, []).extend(values)
        return data


NUMBER_INPUTMODES = {"decimal", "numeric"}


class FormParser(HTMLParser):
    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: Field | None = None
        self.select_multiple = False
        self.first_option: str | None = None
        self.textarea: Field | None = None
        self.submit_seen = False

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            method = "post" if a.get("hx-post") or a.get("method", "").lower() == "post" else "get"
            action = a.get("hx-post") or a.get("action") or a.get("hx-get") or self.page_url
            self.form = Form(method, urljoin(self.page_url, action))
            self.submit_seen = False
            return
        if tag == "option" and self.select is not None and "disabled" not in a:
            self._option(a)
            return
        if self.form is None or "name" not in a or "disabled" in a:
            return
        name = a["name"]
        if tag == "input":
            self._input(name, a)
        elif tag == "button":
            if a.get("type", "submit") == "submit" and not self.submit_seen:
                self.submit_seen = True
                self.form.fields.append(Field(name, "choice", a.get("value", "")))
        elif tag == "select":
            self.select = Field(name, "choice", None)
            self.select_multiple = "multiple" in a
            self.first_option = None
            self.form.fields.append(self.select)
        elif tag == "textarea":
            self.textarea = Field(name, "text", "")
            self.form.fields.append(self.textarea)

    def _option(self, a):
        """An <option> has no name of its own: it gives its select a value."""
        value = a.get("value", "")
        if self.first_option is None:
            self.first_option = value
        if "selected" in a:
            if self.select_multiple:
                self.select.value = [*(self.select.value or []), value]
            else:
                self.select.value = value

    def _input(self, name, a):
        kind = a.get("type", "text").lower()
        if kind in ("submit", "image"):
            if not self.submit_seen:
                self.submit_seen = True
                self.form.fields.append(Field(name, "choice", a.get("value", "")))
            return
        if kind in ("button", "reset", "file"):
            return
        value = a.get("value", "")
        existing = next((f for f in self.form.fields if f.name == name), None)
        if kind in ("checkbox", "radio"):
            checked = value or "on" if "checked" in a else None
            if existing is None:
                self.form.fields.append(
                    Field(
                        name,
                        "choice",
                        ([checked] if checked else []) if kind == "checkbox" else checked,
                    )
                )
            elif checked:
                if isinstance(existing.value, list):
                    existing.value.append(checked)
                else:
                    existing.value = checked
            return
        if "data-date-input" in a:  # the portal's date inputs: text in the tenant's format
            field_kind = "date"
        elif kind == "number" or a.get("inputmode") in NUMBER_INPUTMODES:
            field_kind = "number"
        elif kind in ("date", "datetime-local", "month", "time"):
            field_kind = "date"
        elif kind == "hidden":
            field_kind = "hidden"
        elif kind == "password":
            field_kind = "secret"
        else:
            field_kind = "text"
        self.form.fields.append(Field(name, field_kind, value))

    def handle_endtag(self, tag):
        if tag == "form" and self.form is not None:
            self.forms.append(self.form)
            self.form = None
        elif tag == "select" and self.select is not None:
            if self.select.value is None and not self.select_multiple:
                self.select.value = self.first_option
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            if self.textarea.value.startswith("\n"):  # as HTML drops the newline after <textarea>
                self.textarea.value = self.textarea.value[1:]
            self.textarea = None

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea.value += data


def page_forms(html: str, page_url: str) -> list[Form]:
    parser = FormParser(page_url)
    parser.feed(html)
    return parser.forms
