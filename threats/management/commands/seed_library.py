"""``manage.py seed_library``: install or upgrade the threat and control library (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from threats.atlas_parser import AtlasFormatError
from threats.engine.library import LibraryError
from threats.services.library import library_seed


class Command(BaseCommand):
    help = (
        "Load threats/library/threats.yaml, threats/library/controls.yaml and the shipped ATLAS names "
        "(threats/library/atlas-derived.json); re-runs change nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = library_seed()
        except LibraryError as exc:
            raise CommandError(f"The library is invalid, nothing was written:\n{exc}") from exc
        except AtlasFormatError as exc:
            raise CommandError(f"The shipped ATLAS data is invalid, nothing was written: {exc}") from exc
        if not report.library_changed:
            self.stdout.write(f"Library {report.version} is up to date.")
        else:
            self.stdout.write(
                f"Library {report.version}: created {report.created}, updated {report.updated}, "
                f"deactivated {report.deactivated}."
            )
        if report.atlas is not None:
            self.stdout.write(report.atlas.message)
