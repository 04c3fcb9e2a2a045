"""`{% client_field "sms_price" "SMS price" %}…{% endclient_field %}`: one row of the client
page's General info (a <dt> with its label, a <dd> with the content), rendered only when the
tenant's modules show that field (clients/modules.py: CLIENT_FIELDS). The row carries
`data-field="<name>"`, the same mark as the field's wrapper in the client form.
`{% field_shown "itn" as show_itn %}` asks the same question elsewhere."""

from django import template
from django.utils.html import format_html

from ..modules import CLIENT_FIELDS, shows

register = template.Library()


class ClientFieldNode(template.Node):
    def __init__(self, name, label, options, nodelist):
        self.name, self.label, self.options, self.nodelist = name, label, options, nodelist

    def render(self, context):
        name = self.name.resolve(context)
        request = context.get("request")
        tenant = context.get("tenant") or getattr(request, "tenant", None)
        if not shows(CLIENT_FIELDS, name, tenant):
            return ""
        options = {key: value.resolve(context) for key, value in self.options.items()}
        dd_class = " ".join(filter(None, ["col-7", options.get("dd_class", "")]))
        testid = options.get("testid")
        return format_html(
            '<dt class="col-5" data-field="{}">{}</dt><dd class="{}"{}>{}</dd>',
            name,
            self.label.resolve(context),
            dd_class,
            format_html(' data-testid="{}"', testid) if testid else "",
            self.nodelist.render(context),
        )


@register.simple_tag(takes_context=True)
def field_shown(context, name: str) -> bool:
    """`{% field_shown "itn" as show_itn %}`: whether the tenant's modules show the field."""
    request = context.get("request")
    return shows(CLIENT_FIELDS, name, context.get("tenant") or getattr(request, "tenant", None))


@register.tag("client_field")
def client_field(parser, token):
    """{% client_field name label [dd_class="…"] [testid="…"] %}content{% endclient_field %}"""
    bits = token.split_contents()
    if len(bits) < 3:
        raise template.TemplateSyntaxError("client_field takes a field name and a label.")
    options = {}
    for bit in bits[3:]:
        key, sep, value = bit.partition("=")
        if not sep or key not in ("dd_class", "testid"):
            raise template.TemplateSyntaxError(f"client_field: unknown option {bit!r}")
        options[key] = parser.compile_filter(value)
    nodelist = parser.parse(("endclient_field",))
    parser.delete_first_token()
    return ClientFieldNode(
        parser.compile_filter(bits[1]), parser.compile_filter(bits[2]), options, nodelist
    )
