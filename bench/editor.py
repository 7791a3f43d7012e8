"""Benchmark opening a big system in the diagram editor, in headless Chromium.

Run: ``cd /work/main && .venv/bin/python bench/editor.py``. Prints ONE JSON object.

A generated system of 500 assets and 1,500 flows (``workbench.services.synthetic``) in a scratch
SQLite database, served by ``manage.py runserver`` in a subprocess, opened by Debian's Chromium
through Playwright. ``editor_ready_s`` is the wall time from navigation start until the editor's
graph is rendered (the ``editor-rendered`` performance mark, set after Cytoscape's first render);
``baseline_load_s`` is the same page with the editor left out (``?editor=off``) until its ``load``
event, measured in the same run. Median of 3 each. Goal (issue 8): under 3 s. Not a test.

``breakdown`` splits the editor runs (medians, seconds from navigation start unless named ``_s``
durations) from the browser's own timings: the page's server time and size, DOMContentLoaded, the
graph request (``/graph/``, server time included) and its size, and the editor's performance marks
(``editor-graph-loaded``: graph parsed; ``editor-cy-created``: Cytoscape built and fitted;
``editor-rendered``: first frame drawn), so a regression points at the server, the page or the canvas.

``--with-risk`` seeds the threat library and computes the system's risk once before measuring (about
10 s more), so the page carries a full risk panel and the graph every element's findings, as it would
in use; the default leaves results out, as the issue's figure is the editor, not the risk engine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
SCRATCH = Path(tempfile.mkdtemp(prefix="bench-editor-"))
ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "workbench.settings",
    "SQLITE_NAME": str(SCRATCH / "bench.sqlite3"),
    "LOG_LEVEL": "WARNING",
    "AXES_ENABLED": "false",
    "DEBUG": "false",
}
ENV.pop("DATABASE_URL", None)
ENV.pop("REDIS_URL", None)
os.environ.update({k: v for k, v in ENV.items() if k in {"DJANGO_SETTINGS_MODULE", "SQLITE_NAME", "LOG_LEVEL"}})
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

ASSETS, FLOWS_PER_ASSET, RUNS = 500, 3.0, 3
PASSWORD = secrets.token_urlsafe(16)
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
BREAKDOWN_JS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const graph = performance.getEntriesByType("resource").find((e) => e.name.includes("/graph/"));
  const mark = (name) => (performance.getEntriesByName(name)[0] || {}).startTime;
  return {
    page_server_s: (nav.responseStart - nav.requestStart) / 1000,
    page_kb: nav.decodedBodySize / 1024,
    dom_content_loaded_at_s: nav.domContentLoadedEventEnd / 1000,
    graph_request_s: graph ? (graph.responseEnd - graph.startTime) / 1000 : null,
    graph_kb: graph ? graph.decodedBodySize / 1024 : null,
    graph_parsed_at_s: mark("editor-graph-loaded") / 1000,
    canvas_built_at_s: mark("editor-cy-created") / 1000,
    canvas_s: (mark("editor-rendered") - mark("editor-graph-loaded")) / 1000,
  };
}"""
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _prepare(*, with_risk: bool) -> str:
    from tests.factories import MembershipFactory, TeamFactory, UserFactory
    from workbench.background import hold_system_changes
    from workbench.choices import Role
    from workbench.models import DataFlow
    from workbench.services.synthetic import system_generate

    call_command("migrate", verbosity=0)
    team = TeamFactory(name="Bench", slug="bench")
    user = UserFactory(username="bench")
    user.set_password(PASSWORD)
    user.save()
    MembershipFactory(team=team, user=user, role=Role.EDITOR)
    with hold_system_changes():  # the figure is the editor, not a 500-asset recompute
        system = system_generate(
            actor=user, team=team, name="Big platform", assets=ASSETS, flows_per_asset=FLOWS_PER_ASSET
        )
    assert DataFlow.objects.filter(system=system).count() >= 1400
    if with_risk:
        from threats.services.library import library_seed
        from threats.services.recompute import system_recompute

        library_seed()
        assert system_recompute(system_id=system.pk).status == "computed"
    return system.slug


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description="Open a 500-asset system in the editor, in headless Chromium.")
    parser.add_argument("--with-risk", action="store_true", help="compute the system's risk before measuring")
    with_risk = parser.parse_args().with_risk
    slug = _prepare(with_risk=with_risk)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env={**ENV, "DEBUG": "true"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", "bench")
            page.fill("#id_password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{base}/")
            ready, baseline, breakdowns = [], [], []
            for _ in range(RUNS):
                page.goto(f"{base}/systems/{slug}/?editor=off", wait_until="load")
                baseline.append(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000)
                page.goto(f"{base}/systems/{slug}/")
                page.wait_for_selector("[data-editor-state=ready]", timeout=60_000)
                ready.append(page.evaluate("performance.getEntriesByName('editor-rendered')[0].startTime") / 1000)
                breakdowns.append(page.evaluate(BREAKDOWN_JS))
            nodes = page.evaluate("document.querySelectorAll('#editor-pick option').length - 1")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(
        json.dumps(
            {
                "benchmark": "editor",
                "assets": ASSETS,
                "flows_per_asset": FLOWS_PER_ASSET,
                "with_risk": with_risk,
                "elements_in_picker": nodes,
                "editor_ready_s": round(statistics.median(ready), 3),
                "editor_ready_runs_s": [round(v, 3) for v in ready],
                "baseline_load_s": round(statistics.median(baseline), 3),
                "baseline_runs_s": [round(v, 3) for v in baseline],
                "breakdown": {
                    key: round(statistics.median(run[key] for run in breakdowns), 3)
                    for key in breakdowns[0]
                    if all(run[key] is not None for run in breakdowns)
                },
                "goal_s": 3.0,
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
