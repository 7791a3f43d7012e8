"""Delivery policies that tasks of every app share, so one decision is written once.

Spread into ``@shared_task(...)`` beside the task's own name and time limits.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, InterfaceError

# The message is acknowledged only when the run ends, so a worker that dies mid-run leaves it to be
# delivered again; a task with this policy must be idempotent (each says how in its docstring).
REDELIVERED: dict[str, Any] = {"bind": True, "acks_late": True, "reject_on_worker_lost": True}

# Database errors are the transient ones (a restart, a dropped connection): retry them a few times,
# spread out; any other error is a permanent outcome the task records.
RETRY_DATABASE_ERRORS: dict[str, Any] = {
    "autoretry_for": (DatabaseError, InterfaceError),
    "retry_backoff": True,
    "retry_jitter": True,
    "max_retries": 3,
}
