"""What follows a committed change of a system's model, written out in one place.

Every service that changes a system bumps its version (``workbench.services.common``), and the
bump calls ``system_changed``. Once the transaction commits, and once per system however many
rows it wrote (a demo load or an inventory sync queues one recompute, not one per row):

1. the recompute is queued by name (``threats.recompute_system``, DESIGN.md §6); a broker error
   is logged, and the version stamp is the outbox the sweep reads, so nothing is lost;
2. the follow-ups declared in ``settings.SYSTEM_CHANGE_FOLLOWUPS`` run in order, in the
   committing process, each called with the system id; each logs, never raises (today: plans
   whose whole scope was deleted are retired, ``mitigations.services.obsolete``, issue 13.8).

The workbench core imports no app (ADR 0004): step 1 names its task, step 2 reads dotted paths
from the one setting that lists them, here and nowhere else, so the dependency is declared in
settings where the project is composed, not hidden in an import inside a function.

``hold_system_changes()`` is the supported way to switch both steps off (benchmarks that time
one thing, tests of a sync that are not about its recompute): the changed systems are recorded
instead, in the order their transactions committed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from workbench.background.queueing import enqueue

RECOMPUTE_TASK = "threats.recompute_system"
_TAG = "workbench_system_id"  # marks our on-commit callbacks, so a burst of writes adds one

_held: list[list[int]] = []  # innermost last; process-wide, as request and worker threads commit too
_held_lock = threading.Lock()


def enqueue_recompute(system_id: int) -> None:
    """Queue a recompute of the system now; a broker failure is logged, never raised.

    Also what the pipeline calls when the version moved while it computed, and the sweep's
    way to re-queue systems whose results lag behind their version.
    """
    enqueue(
        RECOMPUTE_TASK,
        {"system_id": system_id},
        about=f"recompute for system {system_id}; the sweep will retry",
    )


def system_changed(system_id: int) -> None:
    """Run the steps in the module docstring after the current transaction commits.

    Outside a transaction (autocommit) they run at once, as ``on_commit`` does. Inside one,
    a second change of the same system finds the callback pending and adds nothing.
    """
    connection = transaction.get_connection()
    pending = (getattr(entry[1], _TAG, None) for entry in connection.run_on_commit)
    if connection.in_atomic_block and system_id in pending:
        return

    def after_commit() -> None:
        _after_commit(system_id)

    setattr(after_commit, _TAG, system_id)
    transaction.on_commit(after_commit)


def _after_commit(system_id: int) -> None:
    with _held_lock:
        if _held:
            _held[-1].append(system_id)
            return
    enqueue_recompute(system_id)
    for path in settings.SYSTEM_CHANGE_FOLLOWUPS:
        # Resolved at each call (a dict lookup once imported), so a test may replace the function.
        import_string(path)(system_id)  # logs, never raises: the change has committed


@contextmanager
def hold_system_changes() -> Iterator[list[int]]:
    """Within the block, committed changes queue no recompute and retire no plans.

    Yields the list of the ids of systems whose changes committed meanwhile (one per system per
    transaction), for callers that count what would have been scheduled. Process-wide, like the
    work it holds: changes committed by other threads (a live server's) are held too. Nothing
    held runs later: a system left stale is the sweep's to find, as after a lost message, and
    its plans are checked again at its next change.
    """
    held: list[int] = []
    with _held_lock:
        _held.append(held)
    try:
        yield held
    finally:
        with _held_lock:
            # By identity: two empty lists are equal, and a nested block must remove its own.
            _held[:] = [entry for entry in _held if entry is not held]
