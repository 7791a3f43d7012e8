"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Never downloads a browser: ``/usr/bin/chromium`` (``make chromium`` installs it with apt) is
launched headless. Locally tasks run in-process on SQLite; with ``REDIS_URL`` set (CI) a real
Celery worker thread does the recomputes and renders, as in production.

Every page a test opens is watched: console errors, uncaught exceptions and CSP violations
(collected by an init script listening to ``securitypolicyviolation``) fail the test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.service_plugin import require_service

# Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make between
# browser steps are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery staple"
WATCH_SCRIPT = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__reportCsp(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at "
    + e.sourceFile + ":" + e.lineNumber + " on " + document.location.pathname);
});
"""

pytestmark = pytest.mark.e2e


@dataclass
class PageWatch:
    """What went wrong in the browser while a test ran (reported as it happens, across navigations)."""

    problems: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def allow(self, text: str) -> None:
        """Expect a console error containing ``text`` (Chromium logs every 4xx answer of a fetch)."""
        self.allowed.append(text)

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(text in p for text in self.allowed)]

    def attach_context(self, context: Any) -> None:
        context.expose_function("__reportCsp", lambda text: self.problems.append(f"csp: {text}"))
        context.add_init_script(WATCH_SCRIPT)

    def attach(self, page: Any) -> Any:
        page.on("console", lambda msg: msg.type == "error" and self.problems.append(f"console: {msg.text}"))
        page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        return page


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        require_service("Chromium (/usr/bin/chromium, `make chromium`)", False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots of the main pages, under pytest's temporary output directory."""
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def watch() -> Iterator[PageWatch]:
    watcher = PageWatch()
    yield watcher
    problems = watcher.unexpected()
    assert not problems, "browser problems:\n" + "\n".join(problems)


@pytest.fixture
def tasks(request: pytest.FixtureRequest, settings: Any) -> None:
    """Recomputes and renders: a real worker on Redis when configured (CI), else in-process."""
    settings.RISK_DRAWS = 2000
    if settings.REDIS_URL:
        request.getfixturevalue("celery_worker")


@pytest.fixture
def login(browser: Any, live_server: Any, watch: PageWatch) -> Callable[[str], Any]:
    """``login(username)``: a fresh browser context (its own cookies) logged in; returns its page."""
    contexts: list[Any] = []

    def _login(username: str) -> Any:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        watch.attach_context(context)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = watch.attach(context.new_page())
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield _login
    for context in contexts:
        context.close()


def with_password(user: Any) -> Any:
    user.set_password(PASSWORD)
    user.save()
    return user
