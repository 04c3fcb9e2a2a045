from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = "Packages and subscriptions"

    def ready(self):
        from clients.tabs import ClientTab, register_client_tab
        from tenancy.modules import SUBSCRIPTIONS, for_modules
        from tenancy.navigation import NavSection, register_nav_section

        # Internet plans and software licences are sold as packages; a messaging provider
        # charges per message, so the section and the tab show only with those modules.
        register_nav_section(
            NavSection(
                app="subscriptions",
                label="Packages",
                url_name="subscriptions:package_list",
                shown=for_modules(*SUBSCRIPTIONS),
                order=20,
            )
        )
        register_client_tab(
            ClientTab(
                key="subscriptions",
                label="Subscriptions",
                url_name="subscriptions:client_subscriptions",
                shown=for_modules(*SUBSCRIPTIONS),
                order=10,
            )
        )
