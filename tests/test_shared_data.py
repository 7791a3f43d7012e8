"""``shared_path``: tests that read ``../shared`` skip on a fresh clone and fail under CI=true."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import find_shared, shared_dir


def test_the_folder_beside_the_checkout_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHARED_DIR", raising=False)

    assert shared_dir() == Path(__file__).resolve().parents[2] / "shared"


def test_present_file_is_returned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "ATLAS.yaml").write_text("x")
    monkeypatch.setenv("SHARED_DIR", str(tmp_path))

    assert find_shared("reference/ATLAS.yaml") == tmp_path / "reference" / "ATLAS.yaml"


def test_missing_shared_data_skips_naming_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("SHARED_DIR", str(tmp_path / "no-shared"))

    with pytest.raises(pytest.skip.Exception) as skipped:
        find_shared("reference/ATLAS.yaml")

    assert f"needs reference/ATLAS.yaml from the shared data folder, not found at {tmp_path}/no-shared/" in str(
        skipped.value
    )


@pytest.mark.parametrize("ci", ["true", "TRUE", "1"])
def test_missing_shared_data_fails_under_ci(ci: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("SHARED_DIR", str(tmp_path / "no-shared"))

    with pytest.raises(pytest.fail.Exception, match="CI=true: missing shared data is a failure, not a skip"):
        find_shared("reference/ATLAS.yaml")
