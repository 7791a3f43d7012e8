"""The main browser journey: model a system in the editor, watch risk arrive, plan and approve.

Log in, create a system, add three assets and two flows in the diagram editor and save them in
one batch; findings and the risk summary appear without a manual reload; open an attack path;
propose a plan; a risk owner in a second browser context approves it; the projected risk moves.
Screenshots of the main pages land in pytest's temporary output directory.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import with_password
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from threats.services.library import library_seed
from workbench.choices import Role
from workbench.models import Asset, AuditEvent, DataFlow, System

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people() -> dict[str, Any]:
    library_seed()
    team = TeamFactory(name="Acme", slug="acme")
    users = {}
    for name, role in (("bob", Role.EDITOR), ("rita", Role.RISK_OWNER)):
        users[name] = with_password(UserFactory(username=name))
        MembershipFactory(team=team, user=users[name], role=role)
    return users


def add_asset(page: Any, kind: str, name: str, **fields: str) -> None:
    page.select_option("#editor-new-kind", kind)
    page.click("[data-testid=add-asset]")
    page.fill("#asset-name", name)
    for selector, value in fields.items():
        target = f"#{selector}"
        if value == "check":
            page.check(target)
        elif page.locator(target).evaluate("el => el.tagName") == "SELECT":
            page.select_option(target, value)
        else:
            page.fill(target, value)


def pick(page: Any, label: str) -> None:
    page.select_option("[data-testid=pick]", label=label)


def money(text: str) -> float:
    digits = re.sub(r"[^0-9.]", "", text.split()[0])
    return float(digits or 0)


def test_model_plan_and_approve_in_the_browser(login, live_server, people, tasks, screenshots: Path) -> None:
    bob = login("bob")
    bob.screenshot(path=str(screenshots / "dashboard.png"), full_page=True)
    bob.click("text=New system")
    bob.select_option("#id_team", label="Acme")
    bob.fill("#id_name", "Chat service")
    bob.click("main button[type=submit]")
    bob.wait_for_selector("[data-editor-state=ready]")
    system = System.objects.get(name="Chat service")
    version_before = system.version

    internet = str(system.zones.get(trust_level=0).pk)
    add_asset(
        bob,
        "inference_endpoint",
        "Chat API",
        **{
            "asset-zone": internet,
            "asset-internet": "check",
            "asset-auth": "none",
            "asset-model-class": "llm",
            "asset-granularity": "logits",
            "asset-value-min": "1000000",
            "asset-value-likely": "3000000",
            "asset-value-max": "9000000",
        },
    )
    add_asset(bob, "model_registry", "Model registry", **{"asset-value-likely": "0"})
    add_asset(
        bob,
        "model_weights",
        "Production weights",
        **{"asset-value-min": "2000000", "asset-value-likely": "5000000", "asset-value-max": "20000000"},
    )
    pick(bob, "Chat API")
    bob.select_option("#flow-target", label="Model registry")
    bob.click("[data-testid=add-flow]")
    bob.fill("#flow-name", "Load model")
    pick(bob, "Model registry")
    bob.select_option("#flow-target", label="Production weights")
    bob.click("[data-testid=add-flow]")
    assert bob.inner_text("[data-testid=save]") == "Save changes (5)"
    bob.click("[data-testid=save]")
    bob.wait_for_selector("[data-testid=editor-status]:has-text('Saved · version')")

    # One batch: five audited creates, and the drawing shows them.
    assert Asset.objects.filter(system=system).count() == 3
    assert set(DataFlow.objects.filter(system=system).values_list("name", flat=True)) == {
        "Load model",
        "Model registry to Production weights",
    }
    assert AuditEvent.objects.filter(system=system, verb="create").count() >= 6
    system.refresh_from_db()
    assert system.version == version_before + 5

    # Findings and risk arrive without a reload: the risk panel turns fresh, the side panel lists findings.
    bob.wait_for_selector("#risk-panel [data-state=fresh]", timeout=60_000)
    current = money(bob.inner_text("[data-testid=ale-mean]"))
    assert current > 0
    pick(bob, "Chat API")
    bob.wait_for_selector("[data-testid=panel-findings] li", timeout=30_000)
    assert "/ yr" in bob.inner_text("[data-testid=panel-findings]")
    bob.wait_for_selector("[data-testid=activity] li:has-text('Chat API')")
    bob.screenshot(path=str(screenshots / "system.png"), full_page=True)

    # Open an attack path (the diagrams panel refreshes itself once paths are computed).
    bob.wait_for_selector("table.attack-paths details summary", timeout=60_000)
    bob.click("table.attack-paths details summary")
    assert bob.locator("table.attack-paths details[open] table.factors").is_visible()
    projected_before = money(bob.inner_text("[data-testid=ale-projected]"))

    # Propose a plan against the endpoint's findings.
    bob.goto(f"{live_server.url}/systems/{system.slug}/findings/")
    bob.screenshot(path=str(screenshots / "findings.png"), full_page=True)
    bob.goto(f"{live_server.url}/systems/{system.slug}/plans/new/")
    bob.select_option("#id_control", "M-RATE-QUOTA")
    bob.locator("#id_findings option").first.wait_for(state="attached")
    bob.select_option("#id_findings", index=list(range(bob.locator("#id_findings option").count())))
    bob.click("main button[type=submit]:has-text('Propose')")
    bob.wait_for_selector("[data-testid=plan-status]:has-text('Proposed')")
    plan_url = bob.url

    # A risk owner, in a browser context of her own, approves it.
    rita = login("rita")
    rita.goto(f"{live_server.url}/mitigations/inbox/")
    rita.screenshot(path=str(screenshots / "inbox.png"), full_page=True)
    rita.goto(plan_url)
    rita.click("#decide button:has-text('Approve')")
    rita.wait_for_selector("[data-testid=plan-status]:has-text('Approved')")
    rita.screenshot(path=str(screenshots / "plan.png"), full_page=True)

    # Projected risk (with planned controls) moves below the current risk.
    bob.goto(f"{live_server.url}/systems/{system.slug}/")
    bob.wait_for_selector("#risk-panel [data-state=fresh]", timeout=60_000)
    projected_after = money(bob.inner_text("[data-testid=ale-projected]"))
    current_after = money(bob.inner_text("[data-testid=ale-mean]"))
    assert projected_after < projected_before
    assert projected_after < current_after
    bob.screenshot(path=str(screenshots / "system-after-plan.png"), full_page=True)
