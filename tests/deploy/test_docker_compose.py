"""The production shape in docker-compose.yml: five services wired to the same environment."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("web", "worker", "beat")


def _command(service: str) -> str:
    command = SERVICES[service]["command"]
    return " ".join(command) if isinstance(command, list) else command


def test_it_defines_exactly_the_five_services() -> None:
    assert set(SERVICES) == {"postgres", "redis", "web", "worker", "beat"}


@pytest.mark.parametrize("service", sorted({"postgres", "redis", "web", "worker", "beat"}))
def test_every_service_has_a_healthcheck(service: str) -> None:
    check = SERVICES[service]["healthcheck"]
    assert check["test"] and check["interval"]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_share_one_environment_and_wait_for_healthy_backends(service: str) -> None:
    env = SERVICES[service]["environment"]
    assert env == SERVICES["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert "SECRET_KEY" in env and env["DEBUG"] == "false"
    depends = SERVICES[service]["depends_on"]
    assert depends == {"postgres": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"}}


def test_processes_are_gunicorn_worker_and_beat() -> None:
    assert "gunicorn workbench.wsgi:application" in _command("web")
    assert "migrate" in _command("web")
    assert _command("worker").startswith("celery -A workbench worker")
    assert _command("beat").startswith("celery -A workbench beat")
    assert SERVICES["web"]["ports"] == ["8000:8000"]


def test_database_credentials_match_between_postgres_and_the_app() -> None:
    pg = SERVICES["postgres"]["environment"]
    url = SERVICES["web"]["environment"]["DATABASE_URL"]
    assert f"{pg['POSTGRES_USER']}:" in url and url.endswith(f"/{pg['POSTGRES_DB']}")


def test_docker_compose_accepts_the_file_where_installed() -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("Docker Compose is not installed on this machine (the file is checked structurally above)")
    result = subprocess.run(
        [docker, "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        env={**os.environ, "SECRET_KEY": "compose-check"},
    )
    assert result.returncode == 0, result.stderr
