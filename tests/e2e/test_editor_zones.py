"""A system too big to draw per asset opens at the zones level, and one zone opens in full
(issue 13, point 5: the graph read of a huge system is bounded)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import with_password
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from workbench.choices import Role
from workbench.services.synthetic import system_generate

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STATUS = "[data-testid=editor-status]"


def test_a_huge_system_opens_as_zones_and_a_zone_opens_in_full(login, live_server, tasks, settings):
    settings.EDITOR_GRAPH_MAX_ELEMENTS = 150
    team = TeamFactory(name="Acme", slug="acme")
    owner = with_password(UserFactory(username="alice"))
    MembershipFactory(team=team, user=owner, role=Role.EDITOR)
    system = system_generate(actor=owner, team=team, name="Huge platform", assets=300, flows_per_asset=2)
    zone = min(
        (z for z in system.zones.all() if 0 < z.assets.count() <= 40), key=lambda z: z.assets.count(), default=None
    )
    assert zone is not None, "the generated system has no small zone"

    page = login("alice")
    page.goto(f"{live_server.url}{system.get_absolute_url()}")
    page.wait_for_selector("[data-editor-state=ready]")
    assert "more zones, assets and flows than the diagram draws" in page.locator(STATUS).inner_text()
    zone_options = page.locator("[data-testid=pick] option").all_inner_texts()
    assert zone.name in zone_options
    assert not any(name.startswith("model_weights-") for name in zone_options)  # no asset is listed

    page.select_option("[data-testid=pick]", f"z_{zone.pk}")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=editor-status]').textContent.startsWith('Version')"
    )
    options = page.locator("[data-testid=pick] option").all_inner_texts()
    assert "↩ All zones of the system" in options
    assert set(zone.assets.values_list("name", flat=True)) <= set(options)

    page.select_option("[data-testid=pick]", "all")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=editor-status]').textContent.includes('draws at once')"
    )


def test_an_asset_added_to_a_zone_drawn_alone_is_saved_in_that_zone(login, live_server, tasks, settings):
    settings.EDITOR_GRAPH_MAX_ELEMENTS = 150
    team = TeamFactory(name="Acme", slug="acme")
    owner = with_password(UserFactory(username="alice"))
    MembershipFactory(team=team, user=owner, role=Role.EDITOR)
    system = system_generate(actor=owner, team=team, name="Huge platform", assets=300, flows_per_asset=2)
    zone = min((z for z in system.zones.all() if 0 < z.assets.count() <= 40), key=lambda z: z.assets.count())
    before = zone.assets.count()

    page = login("alice")
    page.goto(f"{live_server.url}{system.get_absolute_url()}")
    page.wait_for_selector("[data-editor-state=ready]")
    assert not page.locator("[data-testid=add-asset]").is_visible()  # nothing to edit at the zones level
    page.select_option("[data-testid=pick]", f"z_{zone.pk}")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=editor-status]').textContent.startsWith('Version')"
    )
    page.click("[data-testid=add-asset]")
    page.click("[data-testid=save]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=editor-status]').textContent.startsWith('Saved')"
    )

    assert zone.assets.count() == before + 1
    options = page.locator("[data-testid=pick] option").all_inner_texts()
    assert "↩ All zones of the system" in options  # still the one zone, with the new asset in it
    assert set(zone.assets.values_list("name", flat=True)) <= set(options)
