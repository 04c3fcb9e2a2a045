"""`core.tables.rendered_rows` writes a page's rows exactly as django-tables2's row template
does (cells, <td> and <tr> attributes, escaping, localisation, links, choices, empty values),
whatever kind of column it meets: the audit log's rows are rendered by it."""

import django_tables2 as tables
import pytest
from django.db import transaction
from django.template import Context, Template
from django.utils import translation
from django.utils.safestring import mark_safe
from django_scopes import scopes_disabled

from core.stored_text import literal_text
from core.tables import MomentColumn, rendered_rows
from events.models import Event
from events.services import event_record
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

DJANGO_TABLES2_ROWS = Template(
    "{% load l10n %}{% for row in table.paginated_rows %}<tr {{ row.attrs.as_html }}>"
    "{% for column, cell in row.items %}<td {{ column.attrs.td.as_html }}>"
    "{% if column.localize == None %}{{ cell }}{% else %}{% if column.localize %}"
    "{{ cell|localize }}{% else %}{{ cell|unlocalize }}{% endif %}{% endif %}</td>"
    "{% endfor %}</tr>{% endfor %}"
)


class SampleTable(tables.Table):
    created_at = tables.Column()  # a moment: the active time zone and formats
    moment = MomentColumn(accessor="created_at")
    actor_kind = tables.Column()  # a choice: its label
    type = tables.Column(attrs={"td": {"data-type": lambda record: record.type}})
    description = tables.Column(linkify=lambda record: f"/events/{record.pk}/")
    object_id = tables.Column()  # empty: the table's default
    amount = tables.Column(accessor="payload__amount")
    client_id = tables.Column(localize=False)
    number = tables.Column(accessor="object_type", localize=True)
    who = tables.Column(empty_values=())

    class Meta:
        model = Event
        fields = ()
        row_attrs = {"class": "row-link", "data-id": lambda record: record.pk}

    def render_type(self, value):
        return mark_safe(f"<b>{value}</b>")  # noqa: S308 - the test's own markup

    def render_client_id(self, value, record):
        return f"{value}/{record.object_type}"


def sample_events(tenant, owner):
    customer = ClientFactory(tenant=tenant)
    with transaction.atomic():
        event_record(
            tenant=tenant,
            type="client.updated",
            client_id=customer.pk,
            actor=owner.user,
            description=literal_text("Name <changed> & saved"),
            payload={"amount": "12.50"},
        )
        event_record(
            tenant=tenant,
            type="hold.placed",
            client_id=customer.pk,
            object_type="hold",
            object_id=None,
            actor_label="financial holds",
            description=literal_text(""),
        )


def test_rows_are_written_as_django_tables2_writes_them(tenant, owner):
    sample_events(tenant, owner)
    for language in ("en", "ru"):
        with scopes_disabled(), translation.override(language):
            table = SampleTable(Event.objects.filter(tenant=tenant).order_by("pk"))
            table.paginate(per_page=10)
            theirs = DJANGO_TABLES2_ROWS.render(Context({"table": table}))
            ours = "".join(f"<tr {row.attrs}>{row.cells}</tr>" for row in rendered_rows(table))
        assert ours == theirs
        assert "Name &lt;changed&gt; &amp; saved" in ours and "<b>client.updated</b>" in ours
