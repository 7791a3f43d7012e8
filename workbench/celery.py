"""The Celery application.

Defaults favour safety for idempotent tasks: late acknowledgement with rejection when a worker
dies (so a killed worker's task is redelivered), JSON only (no pickle from the broker), and time
limits on every task so that nothing runs forever.
"""

from __future__ import annotations

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")

app = Celery("workbench", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_process_init.connect
@signals.worker_init.connect
def _warm_engines(**_: object) -> None:
    """Import the risk engine and its numeric libraries when a worker starts (scipy's sparse
    graph and special functions take a few tenths of a second to load), so the first recompute
    after a deploy is as fast as the rest instead of paying it for the user."""
    import threats.engine.risk  # noqa: F401, PLC0415 - imported for its side effect: loaded modules
