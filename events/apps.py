"""Business events: one row per change, written in the change's transaction. The client
timeline reads them (clients/page.py), and so will the audit log and the deliveries built on
them. Sits between tenancy and clients: it knows tenants and operators, never a client model
(an event names its client by id, so that history outlives the rows it speaks of)."""

from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
