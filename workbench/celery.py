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
    """Build the Monte Carlo's quantile tables when a worker starts (about 0.4 s), so the first
    recompute after a deploy is as fast as the rest instead of paying it for the user."""
    from threats.engine.pert_tables import warm_tables

    warm_tables()
