from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = "Packages and subscriptions"

    def ready(self):
        from clients.tabs import ClientTab, register_client_tab
        from tenancy.navigation import NavSection, register_nav_section

        # Every kind of provider sells packages: internet plans, software licences, message
        # bundles. So the section and the tab show for every tenant.
        register_nav_section(
            NavSection(
                app="subscriptions",
                label="Packages",
                url_name="subscriptions:package_list",
                order=20,
            )
        )
        register_client_tab(
            ClientTab(
                key="subscriptions",
                label="Subscriptions",
                url_name="subscriptions:client_subscriptions",
                order=10,
            )
        )
