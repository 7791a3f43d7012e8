"""``manage.py derive_atlas PATH [-o OUT] [--check]``: regenerate the ATLAS data the product ships.

Run it after a new MITRE ATLAS release, on the upstream ``dist/ATLAS.yaml``, and commit the
result: ``threats/library/atlas-derived.json`` keeps ids, names and links only (see
``threats.atlas_derived``). The output depends on the export alone, so ``--check`` can tell in CI
whether the committed file is what the export gives.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from threats.atlas_derived import derive
from threats.atlas_parser import AtlasFormatError
from threats.management.exports import read_export
from threats.services.atlas import SHIPPED_FILE


def _write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` in one step, so an interrupted run never leaves half a file in the repo."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; this is a file for the repository
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Command(BaseCommand):
    help = (
        "Derive the shipped ATLAS data (ids, names, links, version, attribution; no descriptions) "
        "from an upstream ATLAS export."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="Upstream ATLAS export (dist/ATLAS.yaml).")
        parser.add_argument(
            "-o",
            "--output",
            default=str(SHIPPED_FILE),
            help="Where to write the derived JSON ('-' for standard output); default: the shipped file.",
        )
        parser.add_argument(
            "--check", action="store_true", help="Write nothing; fail if the output file differs from the result."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        data = read_export(path)
        try:
            text = derive(data)
        except AtlasFormatError as exc:
            raise CommandError(f"{path}: {exc} Nothing was written.") from None

        output: str = options["output"]
        if output == "-":
            self.stdout.write(text, ending="")
            return
        target = Path(output)
        if options["check"]:
            try:
                current = target.read_text(encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"Cannot read {target}: {exc.strerror or exc}") from None
            if current != text:
                raise CommandError(
                    f"{target} is not what {path} gives; run `manage.py derive_atlas {path} -o {target}`."
                )
            self.stdout.write(f"{target} is up to date.")
            return
        try:
            _write_atomically(target, text)
        except OSError as exc:
            raise CommandError(f"Cannot write {target}: {exc.strerror or exc}") from None
        document = json.loads(text)
        matrix = document["matrices"][0]
        self.stdout.write(
            f"Wrote {target}: ATLAS {document['version']}, {len(matrix['tactics'])} tactics, "
            f"{len(matrix['techniques'])} techniques, {len(matrix['mitigations'])} mitigations, "
            f"{len(document['case-studies'])} case studies."
        )
