"""Fault tests: a worker killed mid-recompute, and a broker outage. Nothing may be lost.

These run against PostgreSQL and Redis (CI); the killed worker is a real ``celery worker``
process, SIGKILLed while its Job row says "running".
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from tests.service_plugin import require_service, reset_broker_pools
from threats.models import SystemRisk
from threats.selectors_risk import risk_freshness
from threats.services.library import library_seed
from threats.services.risk import compute_system_risk
from threats.services.risk_json import system_json
from threats.tasks import recompute_system, sweep_stale_systems
from workbench.celery import app
from workbench.choices import JobKind, JobStatus
from workbench.models import Job, System
from workbench.services.elements import asset_save
from workbench.services.synthetic import system_generate
from workbench.services.teams import team_create

ROOT = Path(__file__).resolve().parents[2]
DRAWS = 10_000  # the default; a v2 recompute of 1,500 assets takes long enough for the kill to land mid-run


def _requirements() -> None:
    require_service("PostgreSQL", "postgresql" in settings.DATABASES["default"]["ENGINE"])
    require_service("Redis", bool(settings.REDIS_URL) and shutil.which("redis-server") is not None)


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def _start_worker(name: str, broker: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": broker,
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "RISK_DRAWS": str(DRAWS),
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workbench",
        "worker",
        "--pool=solo",
        "-l",
        "warning",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"{name}@%h",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


@pytest.fixture
def big_system(transactional_db: Any) -> System:
    _requirements()
    library_seed()
    user = get_user_model().objects.create_user("fault-owner", password="x" * 16)
    team = team_create(name="Fault team", creator=user)
    # Big enough that a v2 recompute takes seconds (the kill lands mid-run), small enough for CI.
    return system_generate(actor=user, team=team, name="Generated 600", assets=600, seed=7)


def test_a_worker_killed_mid_recompute_is_replaced_and_the_result_equals_a_clean_compute(
    big_system: System,
) -> None:
    app.control.purge()
    version = big_system.version
    recompute_system.delay(system_id=big_system.pk)
    first = _start_worker("doomed", settings.REDIS_URL)
    try:
        _wait(
            lambda: Job.objects.filter(system=big_system, status=JobStatus.RUNNING).exists(),
            60,
            "the first worker to start the recompute",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        _stop(first)
    assert not SystemRisk.objects.filter(system=big_system, computed_version=version).exists()
    second = _start_worker("rescuer", settings.REDIS_URL)
    try:
        _wait(
            lambda: SystemRisk.objects.filter(system=big_system, computed_version=version).exists(),
            300,
            "the redelivered recompute to finish",
        )
    finally:
        _stop(second)
    stored = SystemRisk.objects.get(system=big_system)
    clean = compute_system_risk(system=big_system, draws=DRAWS)
    assert stored.totals == system_json(clean.snapshot, clean.attackers, clean.result)["totals"]
    jobs = Job.objects.filter(system=big_system, kind=JobKind.RECOMPUTE)
    assert [(j.status, j.system_version) for j in jobs] == [(JobStatus.SUCCEEDED, version)]  # same task, one Job


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _private_redis(port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, 10, "redis to listen")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def _broker(url: str) -> Iterator[None]:
    old = app.conf.broker_url
    app.conf.broker_url = url
    reset_broker_pools()
    try:
        yield
    finally:
        app.conf.broker_url = old
        reset_broker_pools()


def test_with_the_broker_down_writes_succeed_and_the_sweep_catches_up(
    transactional_db: Any, client: Any, caplog: Any
) -> None:
    _requirements()
    library_seed()
    user = get_user_model().objects.create_user("outage-owner", password="x" * 16)
    team = team_create(name="Outage team", creator=user)
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    with _broker(url):
        with _private_redis(port):
            system = system_generate(actor=user, team=team, name="Outage system", assets=40, seed=3)
            worker = _start_worker("before-outage", url)
            try:
                _wait(
                    lambda: SystemRisk.objects.filter(system=system, computed_version=system.version).exists(),
                    60,
                    "first results",
                )
            finally:
                _stop(worker)
        # Broker gone: a service write and a page write both succeed, and the system shows stale.
        api = system.assets.filter(kind="inference_endpoint").first()
        with caplog.at_level(logging.ERROR):
            asset_save(actor=user, system=system, asset=api, monitored=True)
            client.force_login(user)
            response = client.post(f"/systems/{system.slug}/zones/new/", {"name": "Quarantine", "trust_level": 4})
        assert response.status_code == 302
        assert "could not enqueue recompute" in caplog.text
        system.refresh_from_db()
        assert risk_freshness(system=system).state == "recomputing"
        # Broker back: the periodic sweep re-enqueues and a worker brings results up to date.
        with _private_redis(port):
            reset_broker_pools()
            assert sweep_stale_systems()["enqueued"] == 1
            worker = _start_worker("after-outage", url)
            try:
                _wait(
                    lambda: SystemRisk.objects.filter(system=system, computed_version=system.version).exists(),
                    60,
                    "the sweep's recompute",
                )
            finally:
                _stop(worker)
    assert risk_freshness(system=system).fresh
