"""``manage.py import_atlas PATH``: load MITRE ATLAS, then list library references ATLAS lacks.

PATH is normally a newer upstream ``dist/ATLAS.yaml``: it is loaded with its descriptions over the
names shipped in ``threats/library/atlas-derived.json`` (which ``seed_library`` then leaves alone,
the database release being newer). The shipped file itself is also accepted.

The second half is the point of running it after every ATLAS release: the curated library
(``threats/library/threats.yaml``, ``threats/library/controls.yaml``) cites ATLAS ids, and a
renamed or withdrawn id should be caught here, by code, rather than by a reader of the UI.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from threats.atlas_parser import AtlasFormatError
from threats.management.exports import read_export
from threats.services.atlas import atlas_import, atlas_unknown_references

# (library file, top-level key, key holding ATLAS ids, kind of entry for messages)
LIBRARY_SOURCES: tuple[tuple[str, str, str, str], ...] = (
    ("threats/library/threats.yaml", "threats", "atlas", "threat"),
    ("threats/library/controls.yaml", "controls", "atlas_mitigations", "control"),
)


def library_references(base_dir: Path) -> Iterator[tuple[str, str, str]]:
    """Yield (kind, code, atlas id) for every ATLAS id cited by the library files that exist.

    A missing file is skipped silently: the library may not be written yet. A file that exists but
    does not parse is an error, because a broken library must not pass a check unnoticed.
    """
    for relative, key, id_key, kind in LIBRARY_SOURCES:
        path = base_dir / relative
        if not path.is_file():
            continue
        try:
            document = yaml.safe_load(path.read_bytes())
        except yaml.YAMLError as exc:
            raise CommandError(f"{relative} is not valid YAML: {exc}") from None
        entries = document.get(key) if isinstance(document, dict) else None
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, dict):
                continue
            code = str(entry.get("code") or f"{key}[{index}]")
            ids: Any = entry.get(id_key) or []
            for atlas_id in ids if isinstance(ids, list) else [ids]:
                yield kind, code, str(atlas_id)


class Command(BaseCommand):
    help = "Import a MITRE ATLAS data file (dist/ATLAS.yaml) and report library references to unknown ATLAS ids."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="Path to ATLAS.yaml.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        data = read_export(path)
        try:
            report = atlas_import(data=data)
        except AtlasFormatError as exc:
            raise CommandError(f"{path}: {exc} Nothing was imported.") from None

        self.stdout.write(
            f"ATLAS {report.version}: {report.tactics} tactics, {report.techniques} techniques, "
            f"{report.mitigations} mitigations, {report.case_studies} case studies "
            f"({report.created} created, {report.updated} updated, "
            f"{report.links_added} links added, {report.links_removed} links removed)."
        )
        for note in report.notes:
            self.stdout.write(f"note: {note}")
        for atlas_id in report.stale:
            self.stdout.write(f"stale: {atlas_id} is stored but no longer in this ATLAS file (kept).")

        references = list(library_references(Path(settings.BASE_DIR)))
        unknown = set(atlas_unknown_references(atlas_id for _, _, atlas_id in references))
        for kind, code, atlas_id in references:
            if atlas_id in unknown:
                self.stdout.write(
                    f"unknown: {kind} {code} cites {atlas_id}, which ATLAS {report.version} does not know."
                )
        checked = len({atlas_id for _, _, atlas_id in references})
        self.stdout.write(f"Library: {checked} ATLAS ids cited, {len(unknown)} unknown.")
