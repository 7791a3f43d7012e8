"""The shared delivery policies reach the tasks that spread them into ``@shared_task``."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, InterfaceError

import threats.tasks  # noqa: F401  (registers the tasks)
import workbench.tasks  # noqa: F401
from workbench.celery import app


@pytest.mark.parametrize("name", ["threats.recompute_system", "threats.render_diagrams", "workbench.inventory_sync"])
def test_a_dead_worker_s_message_is_delivered_again(name: str) -> None:
    task = app.tasks[name]
    assert (task.acks_late, task.reject_on_worker_lost) == (True, True)


@pytest.mark.parametrize("name", ["threats.recompute_system", "threats.render_diagrams"])
def test_only_database_errors_retry_with_backoff(name: str) -> None:
    task = app.tasks[name]
    assert task.autoretry_for == (DatabaseError, InterfaceError)
    assert (task.retry_backoff, task.retry_jitter, task.max_retries) == (True, True, 3)


def test_the_inventory_sync_does_not_retry_on_its_own() -> None:
    assert not getattr(app.tasks["workbench.inventory_sync"], "autoretry_for", ())
