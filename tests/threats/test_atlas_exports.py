"""``read_export``: an ATLAS export is read up to one byte over the cap, and an unreadable one says why."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management.base import CommandError

from threats.management import exports


def test_reads_no_more_than_one_byte_over_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "MAX_BYTES", 4)
    path = tmp_path / "ATLAS.yaml"
    path.write_bytes(b"0123456789")
    assert exports.read_export(path) == b"01234"


def test_a_missing_file_is_a_command_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"Cannot read .*missing\.yaml"):
        exports.read_export(tmp_path / "missing.yaml")
