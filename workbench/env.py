"""Typed readers for environment settings.

They fail loudly on malformed values (healthchecks' habit): a typo in ``DEBUG=ture`` must stop the
process at start-up rather than silently fall back to a default.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# SQLite options of every SQLite database, the default file as much as ``DATABASE_URL=sqlite:///``:
# a transaction takes the write lock when it begins (IMMEDIATE), so two transactions that both
# read and then write can never deadlock on the lock upgrade, which SQLite reports at once as
# "database is locked" whatever the timeout; and a writer waits up to 20 s for the lock instead
# of failing after the driver's 5 s (issue 13, point 6: 18 such 500s under concurrent writers).
SQLITE_OPTIONS: dict[str, object] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}


def database_config(url: str, default_sqlite_path: Path, conn_max_age: int) -> dict[str, object]:
    """The ``default`` database: parsed from ``url``, or the SQLite file when ``url`` is empty.

    SQLite gets ``SQLITE_OPTIONS`` either way; options written in the URL (``?timeout=60``) win.
    """
    config: dict[str, object]
    if url:
        config = dict(environ.Env.db_url_config(url))
        config["CONN_MAX_AGE"] = conn_max_age
        config["CONN_HEALTH_CHECKS"] = True
    else:
        config = {"ENGINE": "django.db.backends.sqlite3", "NAME": default_sqlite_path}
    if config["ENGINE"] == "django.db.backends.sqlite3":
        given = config.get("OPTIONS")
        config["OPTIONS"] = {**SQLITE_OPTIONS, **(given if isinstance(given, dict) else {})}
    return config


def secret_key(base_dir: Path) -> str:
    """Return SECRET_KEY from the environment, or from a generated local file.

    The embedded default must run with no configuration, yet a key must never be committed:
    the first run writes a random key to an untracked, owner-only file and reuses it afterwards.
    """
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    path = base_dir / ".secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
