"""The compose stack works as written: `docker compose config` accepts it with the .env that
.env.example describes, which lists every variable the settings read; migrate runs once before
web, worker and beat; every service has a health check; no password is in the file; and
`check --deploy` is clean with the settings compose gives web."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.ops.compose import (
    COMPOSE_FILE,
    ENV_LINE,
    ROOT,
    compose_config,
    compose_services,
    env_example_lines,
    env_example_names,
    required_secrets,
    variables_read,
)

PASSWORD = "Compose-Test-Pg-Password-5"
APP_SERVICES = ("migrate", "web", "worker", "beat")


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    """`compose config -q` passes, and `compose config` gives the services as they would run."""
    directory = tmp_path_factory.mktemp("compose")
    quiet = compose_config(directory, required_secrets(PASSWORD), "-q")
    assert quiet.returncode == 0 and not quiet.stdout, quiet.stderr
    full = compose_config(directory, required_secrets(PASSWORD))
    assert full.returncode == 0, full.stderr
    return yaml.safe_load(full.stdout)["services"]


def test_env_example_lists_every_variable_the_settings_read_each_explained():
    read = set()
    for module in (
        "config/settings.py",
        "config/gunicorn.py",
        "core/crypto.py",
        "routers/poller.py",
    ):
        read |= variables_read(ROOT / module)
    assert {"SECRET_KEY", "EMAIL_BACKEND", "OUTBOUND_ALLOWED_NETWORKS", "ROUTER_SECRET_KEY"} <= read
    assert read - env_example_names() == set()
    explained = None
    for line in env_example_lines():
        if ENV_LINE.match(line):
            assert explained, f"{line!r} has no explanation above it"
        else:
            explained = line.startswith("# ") and not line.startswith("# --")


def test_compose_config_accepts_the_stack(resolved):
    assert set(resolved) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    for name in ("web", "worker", "beat"):
        assert resolved[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert resolved["migrate"]["restart"] == "no"
    assert resolved["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    for name, service in resolved.items():
        assert name == "migrate" or service["healthcheck"]["test"], name
    volumes = {v.split(":")[0] for s in resolved.values() for v in s.get("volumes", [])}
    assert {"pgdata", "redisdata", "media"} <= volumes
    web = resolved["web"]["environment"]
    assert web["DEBUG"] == "0" and web["USE_X_FORWARDED_PROTO"] == "1"
    assert web["CSRF_TRUSTED_ORIGINS"] == "https://portal.example.com"
    assert PASSWORD in web["DATABASE_URL"]  # from .env, through the reference


def test_the_compose_file_holds_no_password_and_no_insecure_default():
    text = COMPOSE_FILE.read_text()
    assert PASSWORD not in text
    for service in compose_services().values():
        environment = service.get("environment", {})
        for name, value in environment.items():
            if "PASSWORD" in name or "SECRET" in name:
                assert str(value).startswith("${"), (name, value)
    for setting in (
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
    ):
        assert setting not in text


def test_check_deploy_is_clean_with_the_compose_settings(resolved, tmp_path):
    environment = {k: str(v) for k, v in resolved["web"]["environment"].items()}
    environment |= {
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "CLIENTDESK_VAR_DIR": str(tmp_path),
        "PATH": os.environ["PATH"],
    }
    done = subprocess.run(  # noqa: S603 - our interpreter, our manage.py
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_dockerfile_installs_dependencies_before_the_code_and_the_image_leaves_tests_out():
    steps = [
        line.split()[0]
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line and not line.startswith((" ", "#"))
    ]
    text = (ROOT / "Dockerfile").read_text()
    assert (
        text.index("COPY pyproject.toml") < text.index("RUN pip install") < text.index("COPY . .")
    )
    assert steps.count("COPY") == 2
    ignored = set(Path(ROOT / ".dockerignore").read_text().split())
    assert {
        "tests",
        ".ci",
        ".git",
        ".venv",
        "var",
        "**/__pycache__",
        ".pytest_cache",
        ".ruff_cache",
        ".env",
    } <= ignored
