"""Form widgets that render without a template per option.

Django's Select renders one template include per option (and one for each option's
attributes): a filter of forty event types cost more to draw than the page's query. QuickSelect
writes the very same HTML in Python; tests/core/test_widgets.py holds it to Django's own."""

from html import escape

from django import forms
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe


def _attrs_html(attrs: dict) -> str:
    """Django's widgets/attrs.html: ` name="value"`, a bare name for True, nothing for False
    (values are written through `stringformat:'s'`, so always escaped)."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


class QuickSelect(forms.Select):
    """A Select whose HTML is Django's select.html and select_option.html, written directly."""

    def _render(self, template_name, context, renderer=None):
        widget = context["widget"]
        parts = [
            f'<select name="{conditional_escape(widget["name"])}"{_attrs_html(widget["attrs"])}>'
        ]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in options:
                parts.append(
                    f'\n  <option value="{escape(str(option["value"]))}"'
                    f"{_attrs_html(option['attrs'])}>{conditional_escape(option['label'])}</option>\n"
                )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every name, value and label escaped
