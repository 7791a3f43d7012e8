"""Pytest plugin: say which database and broker the run uses, and provide a real Celery worker.

Loaded with ``-p tests.service_plugin`` (pyproject). In CI (``CI=true``) a missing service is a
failure, never a skip: the tests that need Redis call ``require_service`` which fails there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

# CI runs the production shape (DATABASE_URL set, DEBUG off), which redirects http to https;
# the test client and the live server speak plain http. Set before Django reads its settings.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(name: str, available: bool) -> None:
    """Skip locally, fail in CI, when a service a test needs is missing."""
    if available:
        return
    message = f"{name} is required for this test but is not configured or not reachable"
    if _in_ci():
        pytest.fail(f"{message} (CI=true: a missing service is a failure)")
    pytest.skip(message)


def pytest_report_header(config: pytest.Config) -> list[str]:
    from django.conf import settings

    db = settings.DATABASES["default"]
    broker = settings.CELERY_BROKER_URL if not settings.CELERY_TASK_ALWAYS_EAGER else "none (tasks run in-process)"
    return [
        f"workbench database engine: {db['ENGINE'].rsplit('.', 1)[-1]} ({db.get('HOST') or db.get('NAME')})",
        f"workbench celery broker: {broker}",
    ]


def pytest_sessionstart(session: pytest.Session) -> None:
    if not _in_ci():
        return
    from django.conf import settings

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        raise pytest.UsageError("CI=true but DATABASE_URL does not point at PostgreSQL")
    if not settings.REDIS_URL:
        raise pytest.UsageError("CI=true but REDIS_URL is not set")


def _redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def celery_worker(transactional_db: Any, settings: Any) -> Iterator[Any]:
    """A real Celery worker thread consuming from Redis, for tests marked ``celery_worker``.

    The worker shares the process but has its own database connection, so tests that use it
    need committed data (``transactional_db``).
    """
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings as django_settings

    from workbench.celery import app

    url = django_settings.REDIS_URL
    require_service("Redis (REDIS_URL)", bool(url) and _redis_reachable(url))
    # The worker thread opens its own connection: an in-memory SQLite test database is invisible to it.
    require_service("PostgreSQL (DATABASE_URL)", "postgresql" in django_settings.DATABASES["default"]["ENGINE"])
    app.conf.task_always_eager = False
    app.control.purge()
    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker
    app.conf.task_always_eager = django_settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """PBKDF2 at production strength costs ~0.6 s per password; tests only need it to work."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def reset_broker_pools() -> None:
    """Drop Celery's cached broker connections so a changed ``broker_url`` takes effect."""
    from kombu import pools

    from workbench.celery import app

    pools.reset()  # kombu keeps process-wide pools keyed by broker; closed ones must go too
    app._pool = None
    app.amqp._producer_pool = None
