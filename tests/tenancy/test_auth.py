import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.urls import reverse

from tests.factories import TEST_PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db


def test_login_and_logout(client, tenant):
    me = MembershipFactory(tenant=tenant)
    response = client.post(
        reverse("login"), {"username": me.user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("clients:client_list")).status_code == 200
    assert client.get(reverse("logout")).status_code == 405  # logging out is a POST
    client.post(reverse("logout"))
    assert client.get(reverse("clients:client_list")).status_code == 302


def test_failed_logins_are_throttled_with_a_cool_off(client, tenant):
    me = MembershipFactory(tenant=tenant)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": me.user.username, "password": "wrong"})
    response = client.post(
        reverse("login"), {"username": me.user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many failed" in response.content.decode()
    assert settings.AXES_COOLOFF_TIME.total_seconds() > 0


def test_password_change(client, owner):
    response = client.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "An0ther-long-pass",
            "new_password2": "An0ther-long-pass",
        },
    )
    assert response.status_code == 302
    owner.user.refresh_from_db()
    assert owner.user.check_password("An0ther-long-pass")


def test_check_deploy_is_clean_for_production_settings(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "k" * 20 + "production-secret-" + "x9Y!" * 10,
        "ALLOWED_HOSTS": "portal.example.com",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "ROUTER_SECRET_KEY": Fernet.generate_key().decode(),
        "CLIENTDESK_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "0", "CLIENTDESK_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_refused_password_change_answers_400_and_keeps_the_password(client, owner):
    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "An0ther-long-pass", "new_password2": "x"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["old_password"]
    owner.user.refresh_from_db()
    assert owner.user.check_password(TEST_PASSWORD)
