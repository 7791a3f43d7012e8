"""Background work: how a service queues a task, records its Job, and what a change triggers.

One place for what every app used to wire by hand (issue 16.2):

- ``enqueue`` / ``enqueue_on_commit`` (``queueing.py``): queue a task by its registered name,
  now or after commit, with the broker-outage guard. Services never import a tasks module;
  tasks modules import the services they call.
- ``JobRun`` (``runs.py``): the Job row of a run, from queued to an outcome; ``with
  run.running(task_id=...)`` starts it and fails it on a crash.
- ``system_changed`` / ``hold_system_changes`` (``changes.py``): what follows a committed
  change of a system (the recompute, the obsolete-plan check), called by the version bump.
- ``REDELIVERED`` / ``RETRY_DATABASE_ERRORS`` (``policies.py``): the delivery options tasks
  share, spread into ``@shared_task``.
- ``submit`` / ``pool`` (``threads.py``): the embedded mode's two threads, for runs that must
  not hold the request (``enqueue(..., off_thread=True)``).
"""

from workbench.background.changes import RECOMPUTE_TASK, enqueue_recompute, hold_system_changes, system_changed
from workbench.background.policies import REDELIVERED, RETRY_DATABASE_ERRORS
from workbench.background.queueing import QueueFull, enqueue, enqueue_on_commit, problem, registered_task
from workbench.background.runs import JobRun
from workbench.background.threads import BackgroundPool, pool, submit

__all__ = [
    "RECOMPUTE_TASK",
    "REDELIVERED",
    "RETRY_DATABASE_ERRORS",
    "BackgroundPool",
    "JobRun",
    "QueueFull",
    "enqueue",
    "enqueue_on_commit",
    "enqueue_recompute",
    "hold_system_changes",
    "pool",
    "problem",
    "registered_task",
    "submit",
    "system_changed",
]
