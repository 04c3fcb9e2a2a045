from django.apps import AppConfig


def _uses_messaging(tenant, membership) -> bool:
    return bool(tenant and tenant.uses_messaging)


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self):
        from clients.tabs import ClientTab, register_client_tab
        from exports.registry import register_export_kind

        from .exports import STATISTICS_EXPORT

        register_client_tab(
            ClientTab(
                key="statistics",
                label="Statistics",
                url_name="messaging:client_statistics",
                shown=_uses_messaging,
                order=40,
            )
        )
        register_client_tab(
            ClientTab(
                key="names",
                label="Names",
                url_name="messaging:client_names",
                shown=_uses_messaging,
                order=45,
            )
        )
        register_export_kind(STATISTICS_EXPORT)
