from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self):
        from clients.tabs import ClientTab, register_client_tab
        from exports.registry import register_export_kind
        from tenancy.modules import MESSAGING, for_modules

        from .exports import STATISTICS_EXPORT

        register_client_tab(
            ClientTab(
                key="statistics",
                label="Statistics",
                url_name="messaging:client_statistics",
                shown=for_modules(MESSAGING),
                order=40,
            )
        )
        register_client_tab(
            ClientTab(
                key="names",
                label="Names",
                url_name="messaging:client_names",
                shown=for_modules(MESSAGING),
                order=45,
            )
        )
        register_export_kind(STATISTICS_EXPORT)
