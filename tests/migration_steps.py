"""Migrate the test database to named migrations and back, for tests of a data migration.

``migrated_to(targets)`` migrates to ``targets`` and yields the historical apps there (write old
rows through them); on the way out every app is migrated to its latest again, so the rest of the
suite finds the schema it expects whatever the test did.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def apps_at(targets: list[tuple[str, str]]) -> Any:
    """Migrate to ``targets`` and return the historical apps of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@contextmanager
def migrated_to(targets: list[tuple[str, str]]) -> Iterator[Any]:
    try:
        yield apps_at(targets)
    finally:
        call_command("migrate", verbosity=0)
