"""Small template helpers shared by every page."""

from django import forms, template
from django.conf import settings
from django.urls import reverse
from django.utils.translation import get_language

from core.languages import javascript_catalogue_version, offered

register = template.Library()


def widget_css_class(widget) -> str:
    if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
        return "form-check-input"
    if isinstance(widget, forms.Select):
        return "form-select"
    return "form-control"


@register.filter
def bootstrap_widget(field, extra: str = ""):
    """Render a bound field's widget with Bootstrap classes, marked invalid when it has errors."""
    css = [widget_css_class(field.field.widget), extra]
    if field.errors:
        css.append("is-invalid")
    existing = field.field.widget.attrs.get("class", "")
    return field.as_widget(attrs={"class": " ".join(c for c in [existing, *css] if c)})


@register.simple_tag(takes_context=True)
def url_replace(context, **changes):
    """The current query string with some parameters changed (None removes one)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def field_label(form, name: str) -> str:
    """A form field's label by its name (the name itself for an error of no field), for a
    message that lists fields: an operator reads "Client type", not "group"."""
    field = form.fields.get(name) if form is not None else None
    return str(field.label) if field is not None and field.label else name


@register.simple_tag
def javascript_catalogue_url() -> str:
    """The address of the scripts' texts in the active language, at the catalogue's version."""
    return reverse(
        "javascript_catalog",
        kwargs={
            "language": offered(get_language()) or settings.LANGUAGE_CODE,
            "version": javascript_catalogue_version(),
        },
    )
