"""Size limits of a system and of one sync (issue 13, point 5).

Without them one sync could write 100,000 assets, and every later read of that system (the
editor graph, a recompute, the diagrams) paid for it. The defaults leave room above the
largest system ``bench/sync.py`` measures (50,000 assets and 100,000 flows in one 150,000-item
sync); each is a setting:

* ``MAX_ASSETS_PER_SYSTEM`` (60,000) and ``MAX_FLOWS_PER_SYSTEM`` (150,000): a write that would
  pass them is refused whole (``SystemLimitExceeded``; the API answers 422 ``system_too_large``).
  Every path that creates assets or flows checks them: the element services (pages, API,
  editor batch) and the inventory sync.
* ``MAX_SYNC_ITEMS`` (200,000 assets and flows): a larger sync body is refused before it is
  parsed (413 ``too_many_items``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, OuterRef, Subquery

from workbench.models import Asset, DataFlow, System

DEFAULTS = {"MAX_ASSETS_PER_SYSTEM": 60_000, "MAX_FLOWS_PER_SYSTEM": 150_000, "MAX_SYNC_ITEMS": 200_000}
NOUNS: dict[type[models.Model], tuple[str, str]] = {
    Asset: ("assets", "MAX_ASSETS_PER_SYSTEM"),
    DataFlow: ("flows", "MAX_FLOWS_PER_SYSTEM"),
}


class SystemLimitExceeded(ValidationError):
    """The write would leave the system with more assets or flows than its limit allows."""


def limit(name: str) -> int:
    return int(getattr(settings, name, DEFAULTS[name]))


def max_sync_items() -> int:
    return limit("MAX_SYNC_ITEMS")


def room_message(noun: str, cap: int, would_hold: int) -> str:
    return (
        f"This system would hold {would_hold:,} {noun}, more than the limit of {cap:,} per system; "
        f"nothing was written. Remove {noun} or split the system."
    )


def _counts(system: System, models_: list[type[models.Model]]) -> dict[type[models.Model], int]:
    """The system's row counts of ``models_``, in one query (a sync asks for two)."""
    columns = {
        f"n{index}": Subquery(
            model._default_manager.filter(system=OuterRef("pk"))
            .order_by()
            .values("system")
            .annotate(n=Count("pk"))
            .values("n")
        )
        for index, model in enumerate(models_)
    }
    row = System.objects.filter(pk=system.pk).annotate(**columns).values(*columns).get()
    return {model: int(row[f"n{index}"] or 0) for index, model in enumerate(models_)}


def check_room(
    *,
    system: System,
    changes: dict[type[models.Model], tuple[int, int]],
    lock: bool = True,
) -> None:
    """Raise ``SystemLimitExceeded`` unless ``system`` can take the changes, ``{model: (adding,
    removing)}`` for ``Asset`` and ``DataFlow``.

    Runs inside the caller's transaction, which must also make the write. With ``lock`` the
    system row is locked before counting, so two writers cannot both take the last place; the
    sync, which holds that lock already, passes ``lock=False``.
    """
    growing = [model for model, (adding, removing) in changes.items() if adding > removing]
    if not growing:
        return
    if lock:
        System.objects.select_for_update(no_key=True).filter(pk=system.pk).values_list("pk", flat=True).first()
    current = _counts(system, growing)
    errors: dict[str, list[str]] = {}
    for model in growing:
        noun, setting = NOUNS[model]
        cap = limit(setting)
        adding, removing = changes[model]
        would_hold = current[model] + adding - removing
        if would_hold > cap:
            errors[noun] = [room_message(noun, cap, would_hold)]
    if errors:
        raise SystemLimitExceeded(errors, code="system_too_large")
