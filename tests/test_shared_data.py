"""``shared_path``: tests that read ``../shared`` skip on a fresh clone and fail under CI=true."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import find_shared


def test_present_file_is_returned(settings: Any, tmp_path: Path) -> None:
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "ATLAS.yaml").write_text("x")
    settings.SHARED_DIR = tmp_path

    assert find_shared("reference/ATLAS.yaml") == tmp_path / "reference" / "ATLAS.yaml"


def test_missing_shared_data_skips_naming_the_path(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    settings.SHARED_DIR = tmp_path / "no-shared"

    with pytest.raises(pytest.skip.Exception) as skipped:
        find_shared("reference/ATLAS.yaml")

    assert f"needs reference/ATLAS.yaml from the shared data folder, not found at {tmp_path}/no-shared/" in str(
        skipped.value
    )


@pytest.mark.parametrize("ci", ["true", "TRUE", "1"])
def test_missing_shared_data_fails_under_ci(
    ci: str, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", ci)
    settings.SHARED_DIR = tmp_path / "no-shared"

    with pytest.raises(pytest.fail.Exception, match="CI=true: missing shared data is a failure, not a skip"):
        find_shared("reference/ATLAS.yaml")
