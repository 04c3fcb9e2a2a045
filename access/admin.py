from django.contrib import admin

from .models import OperatorSession


@admin.register(OperatorSession)
class OperatorSessionAdmin(admin.ModelAdmin):
    """Shown, not edited: a session ends by its person (My account) or an owner deactivating
    them, through the session store; the session key is never shown."""

    list_display = ("user", "ip_address", "user_agent", "created_at", "last_activity")
    list_select_related = ("user",)
    search_fields = ("user__username", "ip_address")
    fields = ("user", "ip_address", "user_agent", "created_at", "last_activity")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
