"""The architecture contracts of ``[tool.importlinter]`` in pyproject.toml hold, and are live.

``lint-imports`` runs on the tree as it is (it must keep every contract), then on a shadow of
the tree in which one module breaks a contract: the engine importing Django, a service
importing a tasks module. A contract that let those through would be a contract in name only.
The shadow links every real file and adds the one offending module, so the tree is never
written to. The same goes for the import circles between modules of the three apps (ADR 0004):
none may exist, not even through imports made only for type checking, and a planted one is
found.
"""

from __future__ import annotations

import json
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


def _shadow(tmp: Path, planted: str, source: str, also: dict[str, str] | None = None) -> Path:
    """A copy of the tree made of links, plus ``planted`` (a path like threats/engine/x.py) and
    any further new modules in ``also`` (path to source)."""
    (tmp / "pyproject.toml").symlink_to(ROOT / "pyproject.toml")
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            link = tmp / path.relative_to(ROOT)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path)
    for path, text in {planted: source, **(also or {})}.items():
        (tmp / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp / path).write_text(text)
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
        ("threats/services/probe.py", "from mitigations.models import MitigationPlan\n", "threats never imports"),
        # Not even lazily, inside a function: the direction holds for every import that can run.
        ("threats/views/probe.py", "def f():\n    from mitigations import selectors\n", "threats never imports"),
        ("workbench/services/probe.py", "from threats.models import Finding\n", "The workbench core imports no app"),
        (
            "workbench/background/probe.py",
            "import mitigations.services.obsolete\n",
            "The workbench core imports no app",
        ),
    ],
)
def test_a_planted_violation_is_reported(tmp_path: Path, planted: str, source: str, contract: str) -> None:
    result = _lint(_shadow(tmp_path, planted, source))
    assert result.returncode != 0, result.stdout
    assert f"{contract}" in result.stdout
    assert "BROKEN" in result.stdout
    assert planted.removesuffix(".py").replace("/", ".") in result.stdout


# Run in a child process so the graph is built from the tree on its PYTHONPATH (the shadow or
# the real one), not from the packages this process has imported. Function-level imports count,
# and so do imports under TYPE_CHECKING: a circle of types is still two modules that need each other.
CIRCLES = """
import json, grimp, networkx
graph = grimp.build_graph(*{packages!r}, cache_dir=None, exclude_type_checking_imports=False)
edges = networkx.DiGraph()
edges.add_nodes_from(graph.modules)
edges.add_edges_from((m, i) for m in graph.modules for i in graph.find_modules_directly_imported_by(m))
print(json.dumps([sorted(c) for c in networkx.strongly_connected_components(edges) if len(c) > 1]))
"""


def _circles(cwd: Path) -> list[frozenset[str]]:
    """Strongly connected components of more than one module among the apps' modules."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    script = CIRCLES.format(packages=PACKAGES)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return [frozenset(c) for c in json.loads(result.stdout)]


def test_no_module_of_the_apps_is_in_an_import_circle() -> None:
    assert [sorted(c) for c in _circles(ROOT)] == []


def test_a_planted_circle_between_two_apps_is_found(tmp_path: Path) -> None:
    # A mitigations module importing a threats one that imports it back inside a function.
    shadow = _shadow(
        tmp_path,
        "mitigations/probe.py",
        "import threats.probe\n",
        also={"threats/probe.py": "def f():\n    import mitigations.probe\n"},
    )
    assert [c for c in _circles(shadow) if "threats.probe" in c] == [frozenset({"threats.probe", "mitigations.probe"})]
