"""A small in-process thread pool for work that must not run inside the request that caused it.

Only for the embedded default, where there is no broker and Celery runs a task in the caller
(``task_always_eager``). A webhook delivery handed to Celery there would hold the request for
as long as the receiver takes (issue 13.3: 20 s for one slow receiver), so it comes here
instead (``enqueue(..., off_thread=True)``) and the request answers at once. With a broker
(production) the Celery worker does the work and this module is unused.

Bounded on purpose: two daemon threads and a queue of 100 jobs; when the queue is full
``submit`` refuses (False) and the caller records the failure, instead of memory growing
behind a dead receiver. Each job runs the same task function a worker would, with its own
database connection, closed when the job ends. Work still queued when the process exits is
lost, and its Job row keeps saying so (queued); that is the embedded mode's trade-off.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connections

logger = logging.getLogger(__name__)

Job = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class BackgroundPool:
    """Daemon threads that run submitted callables one at a time each, in submission order."""

    def __init__(self, *, workers: int = 2, capacity: int = 100, name: str = "workbench-background") -> None:
        self.workers, self.capacity, self.name = workers, capacity, name
        self._queue: queue.Queue[Job] = queue.Queue(maxsize=capacity)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> bool:
        """Queue ``fn(*args, **kwargs)``; False (nothing queued) when the queue is full."""
        self._ensure_threads()
        try:
            self._queue.put_nowait((fn, args, kwargs))
        except queue.Full:
            logger.warning("background queue full (%s jobs): refused %r", self.capacity, fn)
            return False
        return True

    def drain(self, timeout: float) -> bool:
        """Wait until every submitted job has finished; False if ``timeout`` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def _ensure_threads(self) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's threads and jobs are not here
                self._queue, self._threads, self._pid = queue.Queue(maxsize=self.capacity), [], os.getpid()
            self._threads = [thread for thread in self._threads if thread.is_alive()]
            while len(self._threads) < self.workers:
                thread = threading.Thread(target=self._run, name=f"{self.name}-{len(self._threads)}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _run(self) -> None:
        work = self._queue
        while True:
            fn, args, kwargs = work.get()
            try:
                fn(*args, **kwargs)
            except Exception:  # noqa: BLE001 - one failed job must not stop the thread
                logger.exception("background job %r failed", fn)
            finally:
                connections.close_all()  # this thread's connections only
                work.task_done()


pool = BackgroundPool()


def submit(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> bool:
    """Run ``fn(*args, **kwargs)`` on the shared pool, off the caller's thread (see ``BackgroundPool``)."""
    return pool.submit(fn, *args, **kwargs)
