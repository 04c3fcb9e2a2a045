import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_owner_sees_operator_list(client, owner):
    response = client.get(reverse("tenancy:operator_list"))
    assert response.status_code == 200
    assert owner.user.username in response.content.decode()


@pytest.mark.django_db
def test_client_list_renders(client, owner, make_client):
    make_client(owner.tenant, name="Zed Example")
    response = client.get(reverse("clients:client_list"))
    assert response.status_code == 200
    assert "Zed Example" in response.content.decode()
