"""Tenants and their modules, memberships and roles, navigation and base tables. Its
operators' and API tokens' changes are sent as `tenancy_changed` (tenancy/signals.py), which
the events app records; it hears no signal.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = _("Tenancy")

    def ready(self):
        from access.requirements import register_second_factor_requirement
        from core.jobs import job_register

        from .modules import for_modules
        from .navigation import NavSection, register_nav_section
        from .roles import Capability
        from .services import (
            API_IDEMPOTENCY_PURGE_JOB,
            api_idempotency_purge,
            tenant_names_requiring_two_factor,
        )

        register_second_factor_requirement("tenancy.tenant", tenant_names_requiring_two_factor)

        register_nav_section(
            NavSection(
                app="tenancy",
                label=_("Operators"),
                url_name="tenancy:operator_list",
                shown=for_modules(capability=Capability.MANAGE_OPERATORS),
                order=90,
            )
        )
        register_nav_section(
            NavSection(
                app="api_tokens",
                label=_("API tokens"),
                url_name="tenancy:api_token_list",
                shown=for_modules(capability=Capability.MANAGE_API_TOKENS),
                order=95,
            )
        )
        job_register(
            API_IDEMPOTENCY_PURGE_JOB,
            label=_("API retry answers purge"),
            run=api_idempotency_purge,
            result_labels={"deleted": _("Kept answers deleted")},
        )
