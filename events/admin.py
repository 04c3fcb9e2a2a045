"""Events in the Django admin, read-only: the services write them and nothing edits them."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tenancy.admin import ReadOnlyAdmin, StoredTextAdminMixin

from .models import Event
from .outbox import OutboxEmail


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "tenant",
        "type",
        "client_id",
        "what_happened",
        "actor",
        "actor_label",
    )
    list_filter = ("tenant", "type", "actor_kind")
    # The description is a stored message (JSON), rendered per reader: not searched as text.
    search_fields = ("type", "=client_id")
    list_select_related = ("tenant", "actor")
    raw_id_fields = ("actor",)
    readonly_fields = ("created_at", "what_happened")

    @admin.display(description=_("What happened"))
    def what_happened(self, event: Event) -> str:
        """The description in the admin's language (the column holds its message)."""
        return str(event.description)


@admin.register(OutboxEmail)
class OutboxEmailAdmin(StoredTextAdminMixin, ReadOnlyAdmin):
    """The e-mails owed to clients: whether each was sent, and why one failed."""

    list_display = ("created_at", "tenant", "key", "status", "attempts", "finished_at")
    list_display += ("error_shown",)
    list_filter = ("tenant", "status", "kind")
    search_fields = ("=key", "=client_id")
    readonly_fields = ("created_at",)
