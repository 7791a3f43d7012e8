"""Queue a Celery task by its registered name, with the broker-outage guard.

Services name the task (``"threats.recompute_system"``) instead of importing it: a tasks module
imports the services it calls, so a service importing its tasks module, even inside a function,
closed an import circle in every app. The name is looked up in the Celery app's registry; a web
process has not imported the tasks modules (a worker does, at start-up), so the first miss runs
the same autodiscovery the worker runs, and a name still unknown after it raises ``KeyError``
at once, in the caller: a misspelt name is a bug, not an outage.

The guard: the user's write has committed by the time a task is queued, so a broker error (Redis
down, a full in-process queue) is logged, handed to the caller's ``on_failure`` (which records
it, say in a Job), and never raised into the request. What is lost is recovered elsewhere: the
version stamps and the sweep for recomputes and renders, a failed Job the user can see and send
again for syncs and webhooks.

In the embedded default (``task_always_eager``) ``delay`` runs the task right here, inside the
caller, as before; an exception it raises is reported like a broker error. ``off_thread=True``
sends such a run to ``workbench.background.threads`` instead, for tasks that must not hold the
request (a webhook to a slow receiver); with a broker it changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from celery import Task
from django.db import transaction

from workbench.background import threads
from workbench.celery import app

logger = logging.getLogger(__name__)

OnFailure = Callable[[Exception], None]


class QueueFull(Exception):
    """The in-process queue (``off_thread`` in the embedded mode) refused the run."""

    def __init__(self) -> None:
        super().__init__("the background queue is full")


def registered_task(name: str) -> Task:
    """The task registered under ``name``; ``KeyError`` if no tasks module registers it."""
    tasks = app.tasks
    if name not in tasks:
        app.loader.import_default_modules()  # what a worker does at start-up: autodiscover tasks.py
    return tasks[name]


def problem(exc: Exception) -> str:
    """A short account of a failed enqueue for a Job's error: the exception's type and message."""
    return str(exc) if isinstance(exc, QueueFull) else f"{type(exc).__name__}: {exc}"


def enqueue(
    name: str,
    kwargs: Mapping[str, Any],
    *,
    about: str,
    on_failure: OnFailure | None = None,
    off_thread: bool = False,
) -> bool:
    """Queue the task ``name`` with ``kwargs`` now; True if it was queued (or ran, eagerly).

    On failure logs "could not enqueue <about>" and calls ``on_failure(exc)``; never raises
    (see the module docstring). Use ``enqueue_on_commit`` from inside a transaction.
    """
    return _send(registered_task(name), dict(kwargs), about, on_failure, off_thread)


def enqueue_on_commit(
    name: str,
    kwargs: Mapping[str, Any],
    *,
    about: str,
    on_failure: OnFailure | None = None,
    off_thread: bool = False,
) -> None:
    """Queue the task after the current transaction commits (at once outside one), as ``enqueue``.

    A rolled-back transaction queues nothing, and a worker never picks up a message for rows it
    cannot see yet. The name is checked now, so a misspelt one fails the caller, not the commit.
    """
    task = registered_task(name)
    transaction.on_commit(partial(_send, task, dict(kwargs), about, on_failure, off_thread))


def _send(task: Task, kwargs: dict[str, Any], about: str, on_failure: OnFailure | None, off_thread: bool) -> bool:
    try:
        if off_thread and task.app.conf.task_always_eager:
            if not threads.submit(task.apply, kwargs=kwargs):
                raise QueueFull
        else:
            task.delay(**kwargs)
    except Exception as exc:  # noqa: BLE001 - any broker error must not fail the committed write
        if isinstance(exc, QueueFull):
            logger.error("could not enqueue %s: %s", about, exc)  # no traceback: the pool refused, nothing broke
        else:
            logger.exception("could not enqueue %s", about)
        if on_failure is not None:
            on_failure(exc)  # the caller's bookkeeping; an error in it is the caller's and propagates
        return False
    return True
