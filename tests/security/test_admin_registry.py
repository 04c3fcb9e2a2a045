"""Superusers manage everything in the Django admin: every model is registered, and every
tenant-owned model can be filtered by tenant."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tenancy.models import TenantOwnedModel
from tests.factories import ClientFactory, MembershipFactory, UserFactory
from tests.helpers import force_login_verified

PROJECT_APPS = {
    "core",
    "access",
    "tenancy",
    "clients",
    "subscriptions",
    "billing",
    "messaging",
    "routers",
    "exports",
    "holds",
}
PROJECT_MODELS = [m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS]


@pytest.mark.parametrize("model", PROJECT_MODELS, ids=lambda m: m._meta.label)
def test_every_model_is_in_the_admin(model):
    assert admin.site.is_registered(model), f"{model._meta.label} is not in the admin"


@pytest.mark.parametrize(
    "model",
    [m for m in PROJECT_MODELS if issubclass(m, TenantOwnedModel)],
    ids=lambda m: m._meta.label,
)
def test_tenant_owned_models_filter_by_tenant(model):
    list_filter = admin.site._registry[model].get_list_filter(None)
    assert "tenant" in list_filter


@pytest.mark.django_db
def test_superuser_sees_every_tenants_rows_in_the_admin(client, tenant, other_tenant):
    ClientFactory(tenant=tenant, name="Row of A")
    ClientFactory(tenant=other_tenant, name="Row of B")
    MembershipFactory(tenant=tenant)
    superuser = UserFactory(is_superuser=True, is_staff=True)
    force_login_verified(client, superuser)
    for model in PROJECT_MODELS:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url
    body = client.get(reverse("admin:clients_client_changelist")).content.decode()
    assert "Row of A" in body and "Row of B" in body


# The models a superuser may change in the admin, and why that bypasses no rule of the portal.
# Every other model is read only there (tenancy.admin.ReadOnlyAdmin).
EDITABLE_IN_ADMIN = {
    "tenancy.Tenant": "tenants and their modules exist only in the admin",
    "tenancy.Membership": "superusers grant operators access across tenants",
    "tenancy.OperatorProfile": "a person's language, one of the model's choices, no other rule",
    "clients.ClientGroup": "a name and a description, no rule beyond the model's",
    "subscriptions.Package": "the model's validators are the package form's rules",
    "routers.Router": "its form checks the address like the portal's (router_address_check)",
    "holds.NotificationTemplate": "the wording of e-mails, checked as a template",
}


@pytest.mark.parametrize("model", PROJECT_MODELS, ids=lambda m: m._meta.label)
def test_only_models_without_service_rules_are_editable_in_the_admin(model, rf):
    request = rf.get("/admin/")
    request.user = UserFactory.build(is_superuser=True, is_staff=True)
    model_admin = admin.site._registry[model]
    editable = any(
        (
            model_admin.has_add_permission(request),
            model_admin.has_change_permission(request),
            model_admin.has_delete_permission(request),
        )
    )
    assert editable == (model._meta.label in EDITABLE_IN_ADMIN), (
        f"{model._meta.label}: {'editable' if editable else 'read only'} in the admin"
    )
