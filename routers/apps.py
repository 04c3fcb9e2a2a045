from django.apps import AppConfig


class RoutersConfig(AppConfig):
    name = "routers"
