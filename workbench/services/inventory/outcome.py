"""What a sync attempt comes to, and how an attempt is run: shared by the inline and queued paths.

* ``SyncResult``: a sync that ran, or a payload accepted as a Job (a refusal is a ``SyncError``);
* ``with_retries``: a deadlock or serialization failure (another writer of the same rows, e.g.
  an edit in the browser) rolls the attempt back and runs it again, so clients never see one;
* ``collector_paused``: the garbage collector off while a large payload is parsed and planned.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DatabaseError, IntegrityError, OperationalError

logger = logging.getLogger(__name__)

ATTEMPTS = 3
RETRY_PGCODES = frozenset({"40P01", "40001", "23505"})  # deadlock, serialization failure, unique race
# Outcome codes of a sync that was not refused (a refusal's code is its SyncError's).
SYNCED, ACCEPTED = "synced", "accepted"
# The caller's status of each outcome code, for the answers that are stored (the API's mapping).
StatusFor = Callable[[str], int]
T = TypeVar("T")


@dataclass(frozen=True)
class SyncResult:
    """A sync that ran (``queued`` False) or was accepted as a Job; ``replayed`` for a stored answer."""

    body: dict[str, Any]
    queued: bool = False
    replayed: bool = False

    @property
    def code(self) -> str:
        return ACCEPTED if self.queued else SYNCED


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector around one sync.

    Why: parsing and planning a large inventory allocates hundreds of thousands of small dicts
    and tuples, and each allocation burst makes the collector re-scan every live object, the
    whole payload included: 35-40% of a 10,000-asset sync (bench/sync.py). Nothing here builds
    reference cycles, so reference counting frees it all; the collector resumes afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _retryable(exc: DatabaseError) -> bool:
    return getattr(exc.__cause__, "pgcode", None) in RETRY_PGCODES


def with_retries(attempt: Callable[[], T]) -> T:
    """Run ``attempt`` (one transaction) again after a deadlock or serialization failure."""
    for number in range(1, ATTEMPTS + 1):
        try:
            return attempt()
        except (OperationalError, IntegrityError) as exc:
            if number == ATTEMPTS or not _retryable(exc):
                raise
            logger.warning("inventory sync attempt %s failed transiently (%s); retrying", number, exc.__cause__)
    raise AssertionError("unreachable")  # pragma: no cover
