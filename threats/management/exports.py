"""Reading an ATLAS export for the commands that take one (``derive_atlas``, ``import_atlas``)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from threats.atlas_parser import MAX_BYTES


def read_export(path: Path) -> bytes:
    """The export's bytes up to one over the parser's cap, or a CommandError saying why it cannot be read.

    One byte over ``MAX_BYTES`` is enough for the parser to refuse the file, so a huge one is never
    read whole.
    """
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from None
