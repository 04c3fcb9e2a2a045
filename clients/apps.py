from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"

    def ready(self):
        from tenancy.navigation import NavSection, register_nav_section

        register_nav_section(
            NavSection(app="clients", label="Clients", url_name="clients:client_list", order=10)
        )
