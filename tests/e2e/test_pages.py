"""Every main page loads in Chromium with no console error, no uncaught exception and no CSP violation."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import with_password
from tests.factories import MembershipFactory, TeamFactory, UserFactory, make_system
from threats.models import Finding, ThreatTemplate
from threats.services.comments import finding_comment_add
from threats.services.library import library_seed
from workbench.choices import AssetKind, Role
from workbench.services.elements import asset_save

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def wait_for_finding(system_id: int, timeout: float = 60.0) -> Finding:
    """The system's first finding, once the recompute (in-process, or a worker in CI) wrote it."""
    deadline = time.monotonic() + timeout
    while (finding := Finding.objects.filter(system_id=system_id).order_by("pk").first()) is None:
        assert time.monotonic() < deadline, "no finding was computed"
        time.sleep(0.2)
    return finding


def test_main_pages_are_clean_under_the_strict_csp(login, live_server, tasks, screenshots, watch):
    library_seed()
    team = TeamFactory(name="Acme", slug="acme")
    owner = with_password(UserFactory(username="alice"))
    MembershipFactory(team=team, user=owner, role=Role.ADMIN)
    system = make_system(actor=owner, team=team, name="Page tour")
    internet = system.zones.get(trust_level=0)
    asset_save(
        actor=owner,
        system=system,
        name="Chat API",
        kind=AssetKind.INFERENCE_ENDPOINT,
        zone=internet,
        internet_facing=True,
        authentication="none",
        value_likely=1000,
        value_max=2000,
    )
    threat = ThreatTemplate.objects.order_by("code").first()
    slug = system.slug
    finding = wait_for_finding(system.pk)
    # Escaped on the page: were it not, the strict CSP would report the inline script and fail the test.
    finding_comment_add(actor=owner, finding=finding, body="<script>alert('comment')</script> Needs review.")
    pages = {
        "dashboard": "/",
        "system-no-editor": f"/systems/{slug}/?editor=off",
        "findings": f"/systems/{slug}/findings/",
        "finding": f"/systems/{slug}/findings/{finding.pk}/",
        "plans": f"/systems/{slug}/plans/",
        "plan-new": f"/systems/{slug}/plans/new/",
        "acceptances": f"/systems/{slug}/acceptances/",
        "audit": f"/systems/{slug}/audit/",
        "threat-library": "/library/threats/",
        "threat": f"/library/threats/{threat.code}/",
        "controls": "/library/controls/",
        "tokens": "/tokens/",
        "system-edit": f"/systems/{slug}/edit/",
        "asset-new": f"/systems/{slug}/assets/new/",
        "api-docs": "/api/v1/docs/",
    }
    page = login("alice")
    for name, path in pages.items():
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, (name, response and response.status)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(screenshots / f"page-{name}.png"), full_page=True)
    page.goto(f"{live_server.url}/systems/{slug}/")
    page.wait_for_selector("[data-editor-state=ready]")
    page.keyboard.press("Tab")  # keyboard focus is visible (outline from app.css)
    page.focus("[data-testid=pick]")
    outline = page.eval_on_selector("[data-testid=pick]", "el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"
    page.select_option("[data-testid=pick]", label="Chat API")
    assert page.locator("#asset-name").input_value() == "Chat API"
    unlabeled = page.eval_on_selector_all(
        "#editor input, #editor select, #editor textarea",
        "els => els.filter(el => !el.labels || el.labels.length === 0).map(el => el.id || el.outerHTML)",
    )
    assert unlabeled == []
    # The API docs page has its own nonce'd inline blocks; the page and the SVGs keep their policies.
    csp = page.request.get(f"{live_server.url}/api/v1/docs/").headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp and "frame-ancestors 'none'" in csp
