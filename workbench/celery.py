"""The Celery application.

Defaults favour safety for idempotent tasks: late acknowledgement with rejection when a worker
dies (so a killed worker's task is redelivered), JSON only (no pickle from the broker), and time
limits on every task so that nothing runs forever. Modules a worker loads before its first
task (the risk engine and its numeric libraries) are ``CELERY_IMPORTS`` in settings: this module
is imported by the workbench core (``workbench.background``) and so names no app (ADR 0004).
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")

app = Celery("workbench", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
