"""The architecture contracts of ``[tool.importlinter]`` in pyproject.toml hold, and are live.

``lint-imports`` runs on the tree as it is (it must keep every contract), then on a shadow of
the tree in which one module breaks a contract: the engine importing Django, a service
importing a tasks module. A contract that let those through would be a contract in name only.
The shadow links every real file and adds the one offending module, so the tree is never
written to.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("workbench", "threats", "mitigations")


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT), "--no-cache", "--config", str(cwd / "pyproject.toml")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _shadow(tmp: Path, planted: str, source: str) -> Path:
    """A copy of the tree made of links, plus ``planted`` (a path like threats/engine/x.py)."""
    (tmp / "pyproject.toml").symlink_to(ROOT / "pyproject.toml")
    planted_path = tmp / planted
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            link = tmp / path.relative_to(ROOT)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path)
    planted_path.parent.mkdir(parents=True, exist_ok=True)
    planted_path.write_text(source)
    return tmp


def test_the_tree_keeps_every_contract() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("planted", "source", "contract"),
    [
        ("threats/engine/probe.py", "import django.db\n", "The risk engine is pure"),
        ("threats/engine/probe.py", "from threats.models import Finding\n", "The risk engine is pure"),
        ("threats/services/probe.py", "from threats.tasks import recompute_system\n", "Services never import tasks"),
    ],
)
def test_a_planted_violation_is_reported(tmp_path: Path, planted: str, source: str, contract: str) -> None:
    result = _lint(_shadow(tmp_path, planted, source))
    assert result.returncode != 0, result.stdout
    assert f"{contract}" in result.stdout
    assert "BROKEN" in result.stdout
    assert planted.removesuffix(".py").replace("/", ".") in result.stdout
