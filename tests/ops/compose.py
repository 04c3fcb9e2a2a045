"""The compose stack as files: docker-compose.yml, .env.example, and `docker compose config`
(the Compose plugin, or the standalone docker-compose) run on them without a daemon."""

import ast
import re
import shutil
import subprocess
from pathlib import Path

import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
ENV_LINE = re.compile(r"^#?\s?([A-Z][A-Z0-9_]*)=(.*)$")
ENV_READERS = {"get", "env_bool", "env_int", "env_list", "env_networks", "setting"}


def compose_services() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def env_example_lines() -> list[str]:
    return ENV_EXAMPLE.read_text().splitlines()


def env_example_names() -> set[str]:
    return {m.group(1) for line in env_example_lines() if (m := ENV_LINE.match(line))}


def variables_read(path: Path) -> set[str]:
    """The names a module reads from the environment: os.environ.get("X"), os.environ["X"],
    env_int("X", ...) and the like, and the names of ENV_NAME-style constants."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if called in ENV_READERS and isinstance(first, ast.Constant):
                names.add(first.value)
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            if isinstance(node.slice, ast.Constant):
                names.add(node.slice.value)
        elif isinstance(node, ast.Assign) and ast.unparse(node.targets[0]).endswith("ENV_NAME"):
            names.add(node.value.value)
    return {name for name in names if isinstance(name, str) and name.isupper()}


def compose_command() -> list[str]:
    """`docker compose` when the plugin is there, else the standalone `docker-compose`."""
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)  # noqa: S603
        if probe.returncode == 0:
            return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    assert standalone, "neither `docker compose` nor `docker-compose` is installed"
    return [standalone]


def filled_env(values: dict[str, str]) -> str:
    """.env.example with the required secrets filled in."""
    lines = []
    for line in env_example_lines():
        match = ENV_LINE.match(line)
        if match and not line.startswith("#") and match.group(1) in values:
            line = f"{match.group(1)}={values[match.group(1)]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def required_secrets(password: str) -> dict[str, str]:
    return {
        "SECRET_KEY": "compose-test-" + "k" * 50,
        "POSTGRES_PASSWORD": password,
        "ROUTER_SECRET_KEY": Fernet.generate_key().decode(),
    }


def compose_config(directory: Path, values: dict[str, str], *args: str):
    """Run `compose config` on a copy of the stack's files in `directory`."""
    shutil.copy(COMPOSE_FILE, directory / "docker-compose.yml")
    (directory / ".env").write_text(filled_env(values))
    return subprocess.run(  # noqa: S603 - the compose tool on our own files
        [
            *compose_command(),
            "--project-directory",
            str(directory),
            "-f",
            str(directory / "docker-compose.yml"),
            "config",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=directory,
    )
